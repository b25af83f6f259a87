'use strict';

const { archiveBucket } = require('../params.js');

// Turns the stack's comma-separated name parameters into IAM resource ARNs for serverless.yml.
// CloudFormation cannot map over a list, so this runs when osls resolves the file; the account
// and region stay CloudFormation pseudo parameters (Fn::Sub), so `osls package` needs no AWS
// credentials and the same template deploys to any account.
//
// Queue names are IAM globs, matched as IAM matches a resource ARN: "*" is any run of characters
// (none included), "?" one character, and letters match case-sensitively. Packaging stops on a
// setting that would reach more than the queues it names: a pattern of wildcards alone, anything
// that is not a queue name or pattern, a wildcard in DLQ_QUEUES (the functions read it as names),
// a DLQ pattern ending in a wildcard, a source pattern starting with one, and a source pattern
// that matches a name some DLQ pattern matches.

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

// A DLQ_QUEUES entry may be a name, a queue URL or an ARN. A URL or ARN of AWS names its region
// and account too, and IAM gets exactly that queue: by name alone, a DLQ listed from another
// account or region would give these rights on a same-named queue of this stack's own account.
// (A URL of a local stand-in, as the offline tests use, is taken by its name: no IAM there.)
const HERE = '${AWS::Region}:${AWS::AccountId}';
const AWS_QUEUE_URL =
  /^https:\/\/(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(?:\.cn)?\/([0-9]{12})\/([^/]+)\/?$/;
const QUEUE_ARN = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):([0-9]{12}):([^:]+)$/;
const located = (entry) => {
  const arn = QUEUE_ARN.exec(entry);
  if (arn) return { name: arn[3], where: `${arn[1]}:${arn[2]}` };
  const url = AWS_QUEUE_URL.exec(entry);
  if (url) return { name: url[4], where: `${url[1] || url[2]}:${url[3]}` };
  if (entry.startsWith('arn:')) return { name: entry, where: HERE }; // refused below
  return { name: entry.replace(/\/+$/, '').split('/').pop(), where: HERE };
};

const refuse = (param, patterns, why) => {
  if (patterns.length) {
    throw new Error(`${param} "${patterns.join(',')}" ${why}; see ${HOW_TO}`);
  }
};

// SQS queue names: "alphanumeric characters, hyphens (-), and underscores (_)", 1 to 80 of them,
// a FIFO queue's ending in ".fifo" (SQS Developer Guide, queue naming). A pattern may add IAM's
// two wildcards. Anything else (a space, "[", "$", "/") cannot be part of a queue name: in IAM it
// would only match nothing (IAM has no [ranges]), and "${...}" would be substituted by
// CloudFormation, so it is refused rather than deployed.
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}(\.fifo)?$|^[A-Za-z0-9_-]{1,80}$/;
const QUEUE_PATTERN = /^[A-Za-z0-9_*?-]+(\.fifo)?$/;
const WILDCARDS = /[*?]/;

const checkPatterns = (param, patterns) => {
  refuse(
    param,
    patterns.filter((pattern) => !QUEUE_PATTERN.test(pattern)),
    'is not a queue name or pattern: letters, digits, "-", "_", a ".fifo" ending and IAM\'s ' +
      'wildcards "*" and "?" only',
  );
  refuse(
    param,
    patterns.filter((pattern) => /^[*?]+(\.fifo)?$/.test(pattern)),
    'would match every queue in the account: name the queues',
  );
  return patterns;
};

// Whether some queue name matches both IAM globs ("*": any run, "?": one character, the rest
// literal): a walk over pairs of positions, each step consuming one character both accept.
const overlap = (a, b) => {
  const seen = new Set();
  const todo = [[0, 0]];
  while (todo.length) {
    const [i, j] = todo.pop();
    const state = `${i},${j}`;
    if (seen.has(state)) continue;
    seen.add(state);
    if (i === a.length && j === b.length) return true;
    if (a[i] === '*') todo.push([i + 1, j]);
    if (b[j] === '*') todo.push([i, j + 1]);
    if (i === a.length || j === b.length) continue;
    const [x, y] = [a[i], b[j]];
    const literal = (c) => c !== '*' && c !== '?';
    if (literal(x) && literal(y) && x !== y) continue;
    const next = [x === '*' ? i : i + 1, y === '*' ? j : j + 1];
    if (next[0] !== i || next[1] !== j) todo.push(next);
  }
  return false;
};

// The DLQ patterns in force ({name, where: "region:account"}): dlqNamePatterns, else the
// DLQ_QUEUES entries, else the DLQ suffixes.
const dlqPatterns = async (resolveVariable) => {
  const given = await names(resolveVariable, 'dlqNamePatterns');
  if (given.length) {
    checkPatterns('dlqNamePatterns', given);
    // "orders-dlq*" also matches the working queue "orders-dlq-processor".
    refuse(
      'dlqNamePatterns',
      given.filter((pattern) => /[*?]$/.test(pattern)),
      'ends in a wildcard, so it also matches working queues named after a DLQ (as ' +
        '"*-dlq*" matches "orders-dlq-processor"): end each pattern with the DLQ name\'s ' +
        'ending (such as "*-dlq" or "*-dlq.fifo")',
    );
    return given.map((name) => ({ name, where: HERE }));
  }
  const watched = (await names(resolveVariable, 'dlqQueues')).map(located);
  if (!watched.length || (watched.length === 1 && watched[0].name === '*')) {
    return DLQ_SUFFIX_PATTERNS.map((name) => ({ name, where: HERE }));
  }
  // The functions read DLQ_QUEUES as exact names (bot/config.py refuses "*" among names): a
  // pattern here would widen IAM to queues the bot never watches.
  refuse(
    'dlqQueues',
    watched.filter(({ name }) => !QUEUE_NAME.test(name)).map(({ name }) => name),
    'lists something that is not a queue name (DLQ_QUEUES takes names, queue URLs or ARNs, or ' +
      '"*" alone to discover every DLQ; patterns belong in dlqNamePatterns)',
  );
  return watched;
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
  checkPatterns('sourceNamePatterns', given);
  // A leading wildcard reaches every application's queues ("*s", "*.fifo").
  refuse(
    'sourceNamePatterns',
    given.filter((pattern) => WILDCARDS.test(pattern[0])),
    'starts with a wildcard, so it reaches queues of every application in the account: start ' +
      'each with the beginning of the queue names (such as "orders-*")',
  );
  return given;
};

// Both settings, checked against each other: no queue may be both a DLQ the bot drains and a
// source it sends to ("orders*" as a source also matches the DLQ "orders-dlq"; a DLQ pattern
// that matches a source matches a working queue).
const queuePatterns = async (resolveVariable) => {
  const dlqs = await dlqPatterns(resolveVariable);
  const sources = await sourcePatterns(resolveVariable);
  const both = sources
    .map((source) => [source, dlqs.map(({ name }) => name).find((dlq) => overlap(source, dlq))])
    .filter(([, dlq]) => dlq !== undefined);
  if (both.length) {
    const pairs = both.map(([source, dlq]) => `"${source}" with "${dlq}"`).join(', ');
    throw new Error(
      `sourceNamePatterns and the DLQ patterns match some of the same queue names (${pairs}): ` +
        'a queue the bot drains must not be one it sends to, so name the sources (such as ' +
        `"orders,payments.fifo") or narrow the patterns; see ${HOW_TO}`,
    );
  }
  return { dlqs, sources };
};

// AUTO_REDRIVE: the DLQs the daily job redrives by itself, by exact name (bot/daily/report_run.py),
// or "*" for every watched DLQ. Its delete right goes to those alone, each where its DLQ entry
// says; a name no DLQ pattern covers could not even be read, so packaging stops on it.
const autoRedriveDlqs = async (resolveVariable) => {
  const { dlqs } = await queuePatterns(resolveVariable);
  const auto = await names(resolveVariable, 'autoRedrive');
  if (!auto.length || (auto.length === 1 && auto[0] === '*')) return dlqs;
  refuse(
    'autoRedrive',
    auto.filter((name) => !QUEUE_NAME.test(name)),
    'lists something that is not a DLQ name (AUTO_REDRIVE takes names, or "*" alone)',
  );
  const found = auto.map((name) => [name, dlqs.find((dlq) => overlap(dlq.name, name))]);
  refuse(
    'autoRedrive',
    found.filter(([, dlq]) => dlq === undefined).map(([name]) => name),
    'names a queue no DLQ pattern covers (the daily job may not read it)',
  );
  return found.map(([name, dlq]) => ({ name, where: dlq.where }));
};

const queueArn = ({ name, where }) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:sqs:${where}:${name}`,
});

const arnsFor = (service, resourcePrefix, list) =>
  list.map((name) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resourcePrefix}${name}`,
  }));

// The worker's archive writes from Slack go under these prefixes (bot/slack: discards/<request_id>/,
// exports/<request_id>/); nothing reads, lists or deletes in the bucket from Lambda.
const ARCHIVE_PREFIXES = ['discards/*', 'exports/*'];

// A KMS key id (a UUID, or a multi-Region key's "mrk-" id) or a key ARN; no alias (IAM matches
// the key's ARN, never an alias) and no wildcard.
const KMS_KEY = /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/(mrk-[0-9a-f]{32}|[0-9a-f-]{36})$/;

async function archiveKmsKey(resolveVariable) {
  const raw = String(await resolveVariable('param:archiveKmsKey')).trim();
  if (raw && !KMS_KEY.test(raw) && !KMS_KEY_ARN.test(raw)) {
    throw new Error(
      `archiveKmsKey "${raw}" is not a KMS key id or key ARN (no alias, no wildcard): name the ` +
        'one customer managed key, or leave it empty for SSE-S3; see docs/deploy.md, ' +
        '"The archive bucket"',
    );
  }
  return raw;
}

// --- The other DLQ kinds (issue 13): SNS subscriptions, EventBridge targets, Lambda functions ---
//
// Each kind is on only when its parameter names what the functions may read and deliver to
// (empty: the kind is off, no right at all, and DLQ_KINDS leaves it out). Names are IAM globs,
// refused at packaging when they could reach more than they name, as sourceNamePatterns are.
const KINDS_HOW_TO = 'docs/deploy.md, "The other DLQ kinds: SNS, EventBridge, Lambda"';

// Each name's shape, from the service's own rules, with IAM's two wildcards added:
// SNS topic names: "up to 256 alphanumeric characters, hyphens (-), and underscores (_)", a FIFO
// topic's ending in ".fifo" (SNS API reference, CreateTopic Name). EventBridge rule names:
// 1 to 64 of "[\.\-_A-Za-z0-9]+" (EventBridge API reference, PutRule Name). Lambda function
// names: 1 to 64 letters, digits, hyphens and underscores (Lambda API reference, CreateFunction
// FunctionName, the name alone: no ARN and no qualifier here, the rights add those).
const KIND_PATTERNS = {
  snsTopicPatterns: {
    shape: /^[A-Za-z0-9_*?-]{1,256}(\.fifo)?$/,
    what: 'an SNS topic name or pattern: letters, digits, "-", "_", a ".fifo" ending',
    every: 'topic',
  },
  eventRulePatterns: {
    shape: /^[A-Za-z0-9._*?-]{1,64}$/,
    what: 'an EventBridge rule name or pattern: letters, digits, ".", "-", "_"',
    every: 'rule',
  },
  lambdaFunctionPatterns: {
    shape: /^[A-Za-z0-9_*?-]{1,64}$/,
    what: 'a Lambda function name or pattern (the name alone, no ARN, no version or alias): letters, digits, "-", "_"',
    every: 'function',
  },
};

// EventBridge event bus names (EventBridge API reference, EventBusName pattern
// "[/\.\-_A-Za-z0-9]+", 1 to 256): exact names, no wildcard.
const EVENT_BUS_NAME = /^[A-Za-z0-9/._-]{1,256}$/;

const refuseKind = (param, patterns, why) => {
  if (patterns.length) {
    throw new Error(`${param} "${patterns.join(',')}" ${why}; see ${KINDS_HOW_TO}`);
  }
};

// This stack's own functions: no delivery right may reach them (a DLQ message invoking the worker
// or the daily job would run with this stack's rights).
const OWN_FUNCTIONS = ['slack', 'worker', 'daily', 'failed'];

// A kind's patterns as given, checked: each name's shape, no wildcard-only pattern, no leading
// wildcard (it would reach every application's topics, rules or functions).
const kindPatterns = async (resolveVariable, param) => {
  const given = await names(resolveVariable, param);
  const { shape, what, every } = KIND_PATTERNS[param];
  refuseKind(
    param,
    given.filter((pattern) => !shape.test(pattern)),
    `is not ${what} and IAM's wildcards "*" and "?" only`,
  );
  refuseKind(
    param,
    given.filter((pattern) => /^[*?]+(\.fifo)?$/.test(pattern)),
    `would match every ${every} in the account: name the ${every}s`,
  );
  refuseKind(
    param,
    given.filter((pattern) => WILDCARDS.test(pattern[0])),
    `starts with a wildcard, so it reaches every application's ${every}s in the account: ` +
      `start each with the beginning of the ${every} names (such as "orders-*")`,
  );
  if (param === 'lambdaFunctionPatterns') {
    const own = await Promise.all(
      OWN_FUNCTIONS.map((fn) => resolveVariable(`self:custom.functionNames.${fn}`)),
    );
    refuseKind(
      param,
      given.filter((pattern) => own.some((name) => overlap(pattern, String(name)))),
      "matches one of this stack's own functions (" +
        own.join(', ') +
        '): a redrive must never invoke the bot itself; name the application\'s functions',
    );
  }
  return given;
};

// The event buses whose rules eventRulePatterns names (default: the default bus).
const eventBuses = async (resolveVariable) => {
  const buses = await names(resolveVariable, 'eventBusNames');
  refuseKind(
    'eventBusNames',
    buses.filter((bus) => !EVENT_BUS_NAME.test(bus)),
    'is not an event bus name (letters, digits, "/", ".", "-", "_"; exact names, no wildcard)',
  );
  if (!buses.length) {
    throw new Error(
      `eventBusNames is empty: name the event buses whose rules eventRulePatterns names ` +
        `(default: "default"); see ${KINDS_HOW_TO}`,
    );
  }
  return buses;
};

const HERE_ARN = (service) => `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:`;
const subs = (texts) => texts.map((text) => ({ 'Fn::Sub': text }));

// An EventBridge rule's ARN: "rule/<name>" on the default bus, "rule/<bus>/<name>" on another
// (Service Authorization Reference, EventBridge resource types rule-on-default-event-bus and
// rule-on-custom-event-bus).
const ruleArns = async (resolveVariable) => {
  const patterns = await kindPatterns(resolveVariable, 'eventRulePatterns');
  const buses = await eventBuses(resolveVariable);
  return subs(
    buses.flatMap((bus) =>
      patterns.map((rule) =>
        bus === 'default'
          ? `${HERE_ARN('events')}rule/${rule}`
          : `${HERE_ARN('events')}rule/${bus}/${rule}`,
      ),
    ),
  );
};

module.exports = {
  DLQ_SUFFIX_PATTERNS,
  overlap,
  queuePatterns,
  // DLQ_KINDS: sqs always, and each other kind whose parameter names something (bot/config.py).
  dlqKinds: async ({ resolveVariable }) => {
    const on = async (param) => (await kindPatterns(resolveVariable, param)).length > 0;
    const kinds = ['sqs'];
    if (await on('snsTopicPatterns')) kinds.push('sns');
    if (await on('eventRulePatterns')) {
      await eventBuses(resolveVariable);
      kinds.push('events');
    }
    if (await on('lambdaFunctionPatterns')) kinds.push('lambda');
    return kinds.join(',');
  },
  // The topics snsTopicPatterns names (sns:Publish, for an EventBridge target that is a topic).
  snsTopicArns: async ({ resolveVariable }) =>
    subs(
      (await kindPatterns(resolveVariable, 'snsTopicPatterns')).map(
        (topic) => `${HERE_ARN('sns')}${topic}`,
      ),
    ),
  // sns:GetSubscriptionAttributes: the Service Authorization Reference gives it the resource type
  // "topic" (arn:...:sns:<region>:<account>:<topic>), while the request names a subscription ARN,
  // which is its topic's ARN followed by ":<id>"; both, for the named topics only.
  snsSubscriptionArns: async ({ resolveVariable }) =>
    subs(
      (await kindPatterns(resolveVariable, 'snsTopicPatterns')).flatMap((topic) => [
        `${HERE_ARN('sns')}${topic}`,
        `${HERE_ARN('sns')}${topic}:*`,
      ]),
    ),
  // events:ListTargetsByRule on the named rules of each named bus.
  eventRuleArns: async ({ resolveVariable }) => ruleArns(resolveVariable),
  // lambda:ListFunctionEventInvokeConfigs: the named functions.
  lambdaFunctionArns: async ({ resolveVariable }) =>
    subs(
      (await kindPatterns(resolveVariable, 'lambdaFunctionPatterns')).map(
        (fn) => `${HERE_ARN('lambda')}function:${fn}`,
      ),
    ),
  // lambda:InvokeFunction: the named functions, unqualified and qualified (":<version or alias>",
  // as an on-failure record's requestContext.functionArn names the version that failed).
  lambdaInvokeArns: async ({ resolveVariable }) =>
    subs(
      (await kindPatterns(resolveVariable, 'lambdaFunctionPatterns')).flatMap((fn) => [
        `${HERE_ARN('lambda')}function:${fn}`,
        `${HERE_ARN('lambda')}function:${fn}:*`,
      ]),
    ),
  // The patterns as given (checked), for the stack parameters the kinds' conditions read and
  // for the functions' scope of discovery (DLQ_SNS_TOPICS, DLQ_EVENT_RULES, DLQ_LAMBDA_FUNCTIONS).
  givenSnsTopicPatterns: async ({ resolveVariable }) =>
    (await kindPatterns(resolveVariable, 'snsTopicPatterns')).join(','),
  givenEventRulePatterns: async ({ resolveVariable }) => {
    const patterns = await kindPatterns(resolveVariable, 'eventRulePatterns');
    if (patterns.length) await eventBuses(resolveVariable);
    return patterns.join(',');
  },
  // The buses whose rules are read (DLQ_EVENT_BUSES), when the EventBridge kind is on.
  givenEventBusNames: async ({ resolveVariable }) => {
    const patterns = await kindPatterns(resolveVariable, 'eventRulePatterns');
    return patterns.length ? (await eventBuses(resolveVariable)).join(',') : '';
  },
  givenLambdaFunctionPatterns: async ({ resolveVariable }) =>
    (await kindPatterns(resolveVariable, 'lambdaFunctionPatterns')).join(','),
  // Dead-letter queues the bot may read and delete from.
  dlqQueueArns: async ({ resolveVariable }) =>
    (await queuePatterns(resolveVariable)).dlqs.map(queueArn),
  // The DLQs the daily auto-redrive deletes from: those autoRedrive names ("*": every DLQ).
  autoRedriveDlqArns: async ({ resolveVariable }) =>
    (await autoRedriveDlqs(resolveVariable)).map(queueArn),
  // Source queues the bot may send redriven messages back to (in this stack's account).
  sourceQueueArns: async ({ resolveVariable }) =>
    arnsFor('sqs', '', (await queuePatterns(resolveVariable)).sources),
  // KMS keys of encrypted queues: key ids in this account and region ("*": any of them), or
  // full key ARNs (a key in another account).
  sqsKmsKeyArns: async ({ resolveVariable }) =>
    (await names(resolveVariable, 'sqsKmsKeys')).map((key) =>
      key.startsWith('arn:') ? key : arnsFor('kms', 'key/', [key])[0],
    ),
  // Where the worker writes archive records (bot/s3_gateway.py, from Slack: discards/<request>/
  // and exports/<request>/): those two prefixes of the archive bucket, the stack's own (its ARN)
  // or the one archiveBucket names, and nothing else of it.
  archiveWriteArns: async ({ resolveVariable }) => {
    const named = await archiveBucket(resolveVariable);
    const inBucket = (bucket, prefix) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucket}/${prefix}`,
    });
    return ARCHIVE_PREFIXES.map((prefix) =>
      named
        ? inBucket(named, prefix)
        : {
            'Fn::If': [
              'ArchiveBucketCreated',
              { 'Fn::Sub': `\${ArchiveBucket.Arn}/${prefix}` },
              inBucket('${ArchiveBucketName}', prefix),
            ],
          },
    );
  },
  // The customer managed KMS key of the archive (archiveKmsKey): a key id in this account and
  // region, or a key ARN. Used only when archiveKmsKey is set (the ArchiveKmsKeySet condition).
  // The key as given (checked), for the stack parameter ArchiveKmsKey (empty: SSE-S3).
  givenArchiveKmsKey: async ({ resolveVariable }) => archiveKmsKey(resolveVariable),
  // A key id becomes its ARN through the stack parameter ArchiveKmsKey (which osls sets from
  // the same --param), so the statement names the key the bucket is encrypted with.
  archiveKmsKeyArns: async ({ resolveVariable }) => {
    const key = await archiveKmsKey(resolveVariable);
    return [key.startsWith('arn:') ? key : arnsFor('kms', 'key/', ['${ArchiveKmsKey}'])[0]];
  },
  // The bot token's SecureString parameter (every function that talks to Slack reads it).
  botTokenParameterArns: async ({ resolveVariable }) =>
    arnsFor('ssm', 'parameter/', [(await secretParameters(resolveVariable)).botToken]),
  // The signing secret's SecureString parameter: read by the Slack endpoint alone.
  signingSecretParameterArns: async ({ resolveVariable }) =>
    arnsFor('ssm', 'parameter/', [(await secretParameters(resolveVariable)).signingSecret]),
};

// SSM parameter names: "a-zA-Z0-9_.-" and "/" between levels (Systems Manager User Guide,
// parameter name requirements). Anything else, IAM's "*" and "?" above all, would let every
// function that reads the bot token read other parameters too (the signing secret among them).
const PARAMETER_NAME = /^\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

// A parameter name with or without its leading "/" maps to "parameter/<name>".
async function parameterName(resolveVariable, param) {
  const raw = String(await resolveVariable(`param:${param}`)).trim();
  if (!PARAMETER_NAME.test(raw)) {
    throw new Error(
      `${param} "${raw}" is not an SSM parameter name (letters, digits, "_", ".", "-" and "/" ` +
        'between levels; no wildcards): name the one SecureString parameter; see docs/deploy.md',
    );
  }
  return raw.replace(/^\/+/, '');
}

// The two Slack secrets' parameters, which must differ: the bot token is read by every function,
// the signing secret by the endpoint alone.
async function secretParameters(resolveVariable) {
  const botToken = await parameterName(resolveVariable, 'slackBotTokenParam');
  const signingSecret = await parameterName(resolveVariable, 'slackSigningSecretParam');
  if (botToken === signingSecret) {
    throw new Error(
      `slackBotTokenParam and slackSigningSecretParam are the same parameter ("${botToken}"): ` +
        'every function reads the bot token, and only the endpoint may read the signing secret',
    );
  }
  return { botToken, signingSecret };
}
