'use strict';

// Stack parameters that must be numbers in the template, checked when osls resolves them: a bad
// value stops packaging with a message naming the parameter, not a failed deploy later.

const positiveInteger = async (resolveVariable, param, { max }) => {
  const raw = String(await resolveVariable(`param:${param}`)).trim();
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`${param} must be a whole number from 1 to ${max}, not "${raw}"`);
  }
  return value;
};

module.exports = {
  // The Slack endpoint's reserved concurrency (Lambda's account default quota is 1,000).
  slackReservedConcurrency: async ({ resolveVariable }) =>
    positiveInteger(resolveVariable, 'slackReservedConcurrency', { max: 1000 }),
};
