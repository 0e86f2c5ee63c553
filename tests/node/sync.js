// Calls ChatappSyncPhoneNumber through Alibaba's official Node SDK and prints the outcome as JSON.
// Usage: node sync.js ENDPOINT ACCESS_KEY_ID ACCESS_KEY_SECRET CUST_SPACE_ID [signatureAlgorithm]
'use strict';
const Cams = require('@alicloud/cams20200606');
const { Config } = require('@alicloud/openapi-client');

async function main() {
  const [endpoint, accessKeyId, accessKeySecret, custSpaceId, algorithm] = process.argv.slice(2);
  const config = new Config({ accessKeyId, accessKeySecret, endpoint, protocol: 'http', regionId: 'ap-southeast-1' });
  if (algorithm) config.signatureAlgorithm = algorithm;
  const client = new Cams.default(config);
  try {
    const res = await client.chatappSyncPhoneNumber(new Cams.ChatappSyncPhoneNumberRequest({ custSpaceId }));
    console.log(JSON.stringify({ statusCode: res.statusCode, body: res.body.toMap() }));
  } catch (err) {
    console.log(JSON.stringify({ error: { code: err.code, statusCode: err.statusCode, message: err.message } }));
  }
}

main();
