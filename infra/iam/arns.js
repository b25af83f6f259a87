'use strict';

// Turns the stack's comma-separated name parameters into IAM resource ARNs for serverless.yml.
// CloudFormation cannot map over a list, so this runs when osls resolves the file; the account
// and region stay CloudFormation pseudo parameters (Fn::Sub), so `osls package` needs no AWS
// credentials and the same template deploys to any account.

const names = async (resolveVariable, param) =>
  String(await resolveVariable(`param:${param}`))
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

const arnsFor = (service, resourcePrefix, list) =>
  list.map((name) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${resourcePrefix}${name}`,
  }));

module.exports = {
  // Dead-letter queues the bot may read, delete from and start move tasks on.
  dlqQueueArns: async ({ resolveVariable }) =>
    arnsFor('sqs', '', await names(resolveVariable, 'dlqNamePatterns')),
  // Source queues the bot may send redriven messages back to.
  sourceQueueArns: async ({ resolveVariable }) =>
    arnsFor('sqs', '', await names(resolveVariable, 'sourceNamePatterns')),
  // KMS keys of encrypted queues: key ids in this account and region ("*": any of them), or
  // full key ARNs (a key in another account).
  sqsKmsKeyArns: async ({ resolveVariable }) =>
    (await names(resolveVariable, 'sqsKmsKeys')).map((key) =>
      key.startsWith('arn:') ? key : arnsFor('kms', 'key/', [key])[0],
    ),
  // The two SecureString parameters; a name without a leading "/" still maps to "parameter/<name>".
  slackParameterArns: async ({ resolveVariable }) => {
    const params = [
      await resolveVariable('param:slackBotTokenParam'),
      await resolveVariable('param:slackSigningSecretParam'),
    ].map((name) => String(name).replace(/^\/+/, ''));
    return arnsFor('ssm', 'parameter/', params);
  },
};
