'use strict';

// Turns the stack's comma-separated name parameters into IAM resource ARNs for serverless.yml.
// CloudFormation cannot map over a list, so this runs when osls resolves the file; the account
// and region stay CloudFormation pseudo parameters (Fn::Sub), so `osls package` needs no AWS
// credentials and the same template deploys to any account.
//
// Queue names are IAM globs, matched as IAM matches a resource ARN: "*" is any run of characters
// (none included), "?" one character, and letters match case-sensitively. A pattern of wildcards
// alone would reach every queue in the account, so it is refused here and packaging stops.

// With DLQ_QUEUES "*" (discover every DLQ), the DLQs the bot may drain: names that END in a DLQ
// suffix. Never "*-dlq*", which also matches working queues such as "orders-dlq-processor".
const DLQ_SUFFIX_PATTERNS = [
  '*-dlq',
  '*-dlq.fifo',
  '*_dlq',
  '*_dlq.fifo',
  '*-DLQ',
  '*-DLQ.fifo',
  '*_DLQ',
  '*_DLQ.fifo',
];

const HOW_TO = 'docs/deploy.md, "Which queues the functions may touch"';

const names = async (resolveVariable, param) =>
  String(await resolveVariable(`param:${param}`))
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

// A DLQ_QUEUES entry may be a name, a queue URL or an ARN: IAM wants the name.
const queueName = (entry) => entry.split('/').pop().split(':').pop();

const refuseWildcardsAlone = (param, patterns) => {
  const everything = patterns.filter((pattern) => /^[*?]+$/.test(pattern));
  if (everything.length) {
    throw new Error(
      `${param} "${everything.join(',')}" would match every queue in the account: ` +
        `name the queues (or a narrower pattern such as "orders-*"); see ${HOW_TO}`,
    );
  }
  return patterns;
};

const arnsFor = (service, resourcePrefix, list) =>
  list.map((name) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resourcePrefix}${name}`,
  }));

// The DLQ patterns in force: dlqNamePatterns, else the DLQ_QUEUES names, else the DLQ suffixes.
const dlqPatterns = async (resolveVariable) => {
  const given = await names(resolveVariable, 'dlqNamePatterns');
  if (given.length) return refuseWildcardsAlone('dlqNamePatterns', given);
  const watched = (await names(resolveVariable, 'dlqQueues')).map(queueName);
  if (!watched.length || watched.includes('*')) return DLQ_SUFFIX_PATTERNS;
  return refuseWildcardsAlone('dlqQueues', watched);
};

const sourcePatterns = async (resolveVariable) => {
  const given = await names(resolveVariable, 'sourceNamePatterns');
  if (!given.length) {
    throw new Error(
      'sourceNamePatterns is not set: name the source queues that redriven messages may be ' +
        'sent back to (comma-separated names or IAM globs, e.g. ' +
        '--param="sourceNamePatterns=orders,payments.fifo"). There is no default, as "*" would ' +
        `let the worker and the daily auto-redrive send to every queue in the account; see ${HOW_TO}`,
    );
  }
  return refuseWildcardsAlone('sourceNamePatterns', given);
};

module.exports = {
  DLQ_SUFFIX_PATTERNS,
  dlqPatterns,
  sourcePatterns,
  // Dead-letter queues the bot may read and delete from.
  dlqQueueArns: async ({ resolveVariable }) =>
    arnsFor('sqs', '', await dlqPatterns(resolveVariable)),
  // Source queues the bot may send redriven messages back to.
  sourceQueueArns: async ({ resolveVariable }) =>
    arnsFor('sqs', '', await sourcePatterns(resolveVariable)),
  // KMS keys of encrypted queues: key ids in this account and region ("*": any of them), or
  // full key ARNs (a key in another account).
  sqsKmsKeyArns: async ({ resolveVariable }) =>
    (await names(resolveVariable, 'sqsKmsKeys')).map((key) =>
      key.startsWith('arn:') ? key : arnsFor('kms', 'key/', [key])[0],
    ),
  // The bot token's SecureString parameter (every function that talks to Slack reads it).
  botTokenParameterArns: async ({ resolveVariable }) =>
    arnsFor('ssm', 'parameter/', [await parameterName(resolveVariable, 'slackBotTokenParam')]),
  // The signing secret's SecureString parameter: read by the Slack endpoint alone.
  signingSecretParameterArns: async ({ resolveVariable }) =>
    arnsFor('ssm', 'parameter/', [
      await parameterName(resolveVariable, 'slackSigningSecretParam'),
    ]),
};

// A parameter name with or without its leading "/" maps to "parameter/<name>".
async function parameterName(resolveVariable, param) {
  return String(await resolveVariable(`param:${param}`)).replace(/^\/+/, '');
}
