'use strict';

// Stack parameters that must be numbers in the template, checked when osls resolves them: a bad
// value stops packaging with a message naming the parameter, not a failed deploy later.

const wholeNumber = async (resolveVariable, param, { min, max }) => {
  const raw = String(await resolveVariable(`param:${param}`)).trim();
  const value = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${param} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return value;
};

// A share from 0 to 1, written as a plain decimal ("0.1", "1", "0"): no exponent, no percent.
const share = async (resolveVariable, param) => {
  const raw = String(await resolveVariable(`param:${param}`)).trim();
  const value = Number(raw);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw) || value < 0 || value > 1) {
    throw new Error(`${param} must be a decimal share from 0 to 1 (such as 0.1), not "${raw}"`);
  }
  return value;
};

// S3 general purpose bucket names (S3 User Guide, "General purpose bucket naming rules"): 3 to 63
// characters, lowercase letters, digits, dots and hyphens, beginning and ending with a letter or
// digit, no two adjacent dots, not shaped like an IP address, and none of the reserved prefixes
// and suffixes. Anything else (an "s3://" URL, a "*" that IAM would read as a wildcard, a
// "${...}" CloudFormation would substitute) is refused rather than deployed.
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const RESERVED_BUCKET = /^(xn--|sthree-|amzn-s3-demo-)|(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/;

const archiveBucket = async (resolveVariable) => {
  const raw = String(await resolveVariable('param:archiveBucket')).trim();
  if (
    raw &&
    (!BUCKET_NAME.test(raw) ||
      raw.includes('..') ||
      /^[0-9]+(\.[0-9]+){3}$/.test(raw) ||
      RESERVED_BUCKET.test(raw))
  ) {
    throw new Error(
      `archiveBucket "${raw}" is not an S3 bucket name (3 to 63 lowercase letters, digits, "." ` +
        'and "-", no "s3://", no wildcards): name one existing bucket, or leave it empty for ' +
        'the stack to create one; see docs/deploy.md, "The archive bucket"',
    );
  }
  return raw;
};

// Alerts between reports (issue 14). Their bounds are bot/config.py's (AlertSettings: at least 1,
// a quiet period of at most MAX_ALERT_QUIET_MINUTES, a week), so a stage that packages also
// starts. A check at most an hour apart: a slower one is no longer "when a DLQ starts filling".
const MAX_ALERT_CHECK_MINUTES = 60;
const MAX_ALERT_QUIET_MINUTES = 7 * 24 * 60;
// No queue holds more than this many messages for a threshold or a growth to mean something; a
// longer number is a typing mistake (and past 2**53 JavaScript would round it).
const MAX_ALERT_COUNT = 1000000000;

const alertCheckMinutes = async (resolveVariable) =>
  wholeNumber(resolveVariable, 'alertCheckMinutes', { min: 1, max: MAX_ALERT_CHECK_MINUTES });

// Slack conversation ids of channels: C… (public) or G… (private). A "#name" would post (Slack
// accepts names) but the check could not find its own alerts again (conversations.history takes
// an id), and a user id would post to a DM the team does not watch.
const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;

const alertChannel = async (resolveVariable) => {
  const raw = String(await resolveVariable('param:alertChannel')).trim();
  if (raw && !SLACK_CHANNEL_ID.test(raw)) {
    throw new Error(
      `alertChannel "${raw}" is not a Slack channel id (C… or G…, from the channel's About ` +
        'tab, not its #name): name one, or leave it empty for the report channel',
    );
  }
  return raw;
};

// The off switch of the alert checks (alertsEnabled): "false" creates their schedule DISABLED, so
// no check runs, and keeps the rest (the function, its role, its settings, the alert states in the
// state table): turning them back on is this parameter again, not a new stack. Only the two words:
// a "no" or "0" meant as off must not leave the alerts on.
const alertsEnabled = async (resolveVariable) => {
  const raw = String(await resolveVariable('param:alertsEnabled')).trim();
  if (raw !== 'true' && raw !== 'false') {
    throw new Error(`alertsEnabled must be "true" or "false", not "${raw}"`);
  }
  return raw === 'true';
};

module.exports = {
  // The Slack endpoint's reserved concurrency (Lambda's account default quota is 1,000).
  slackReservedConcurrency: async ({ resolveVariable }) =>
    wholeNumber(resolveVariable, 'slackReservedConcurrency', { min: 1, max: 1000 }),
  // Days an archive object (a discard's or an export's records) is kept; ten years at most.
  archiveRetentionDays: async ({ resolveVariable }) =>
    wholeNumber(resolveVariable, 'archiveRetentionDays', { min: 1, max: 3650 }),
  // ARCHIVE_BUCKET: the bucket the deployer named (plain text, as serverless-offline needs), or
  // the one the stack creates (its generated name, which only CloudFormation knows), under the
  // template's own condition.
  archiveBucketName: async ({ resolveVariable }) =>
    (await archiveBucket(resolveVariable)) || {
      'Fn::If': ['ArchiveBucketCreated', { Ref: 'ArchiveBucket' }, { Ref: 'ArchiveBucketName' }],
    },
  // The daily auto-redrive's canary (bot/canary.py, DAILY_CANARY_*), as text for the
  // environment, within bot/config.py's bounds. Size 0 turns the canary off. The wait happens
  // inside one invocation of the daily function (900 s at most, with the report and the rest of
  // the redrive still to do), so it is at most 600 s (MAX_CANARY_WAIT_S).
  dailyCanarySize: async ({ resolveVariable }) =>
    String(await wholeNumber(resolveVariable, 'dailyCanarySize', { min: 0, max: 1000 })),
  dailyCanaryWaitS: async ({ resolveVariable }) =>
    String(await wholeNumber(resolveVariable, 'dailyCanaryWaitS', { min: 0, max: 600 })),
  dailyCanaryMaxReturned: async ({ resolveVariable }) =>
    String(await share(resolveVariable, 'dailyCanaryMaxReturned')),
  // The alert check's schedule: "rate(1 minute)" or "rate(N minutes)" (a rate expression's unit
  // is singular for 1 and plural above, EventBridge's "Rate expressions reference").
  alertCheckRate: async ({ resolveVariable }) => {
    const minutes = await alertCheckMinutes(resolveVariable);
    return minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`;
  },
  // How old a check's event may get in Lambda's queue before it is dropped: one interval (Lambda
  // takes 60 to 21,600 s), after which the next check is due anyway.
  alertCheckSeconds: async ({ resolveVariable }) => (await alertCheckMinutes(resolveVariable)) * 60,
  // ALERT_*, as text for the environment.
  alertThreshold: async ({ resolveVariable }) =>
    String(await wholeNumber(resolveVariable, 'alertThreshold', { min: 1, max: MAX_ALERT_COUNT })),
  alertGrowth: async ({ resolveVariable }) =>
    String(await wholeNumber(resolveVariable, 'alertGrowth', { min: 1, max: MAX_ALERT_COUNT })),
  alertQuietMinutes: async ({ resolveVariable }) =>
    String(
      await wholeNumber(resolveVariable, 'alertQuietMinutes', {
        min: 1,
        max: MAX_ALERT_QUIET_MINUTES,
      }),
    ),
  alertChannel: async ({ resolveVariable }) => alertChannel(resolveVariable),
  // The alert schedule's "enabled" (a boolean, as the schedule event takes it).
  alertsEnabled: async ({ resolveVariable }) => alertsEnabled(resolveVariable),
  // The same, for the stack parameter ArchiveBucketName (empty: the stack creates one).
  givenArchiveBucket: async ({ resolveVariable }) => archiveBucket(resolveVariable),
  archiveBucket,
};
