// Calls any CAMS action through Alibaba's official Node SDK and prints the outcome as JSON.
// Usage: node call.js ENDPOINT ACCESS_KEY_ID ACCESS_KEY_SECRET ACTION '{"custSpaceId": "..."}'
'use strict';
const Cams = require('@alicloud/cams20200606');
const { Config } = require('@alicloud/openapi-client');

async function main() {
  const [endpoint, accessKeyId, accessKeySecret, action, params] = process.argv.slice(2);
  const config = new Config({ accessKeyId, accessKeySecret, endpoint, protocol: 'http', regionId: 'ap-southeast-1' });
  const client = new Cams.default(config);
  const method = action.charAt(0).toLowerCase() + action.slice(1);
  if (typeof client[method] !== 'function') {
    console.log(JSON.stringify({ missing: method }));
    return;
  }
  try {
    const res = await client[method](new Cams[`${action}Request`](JSON.parse(params || '{}')));
    console.log(JSON.stringify({ statusCode: res.statusCode, body: res.body.toMap() }));
  } catch (err) {
    console.log(JSON.stringify({ error: { code: err.code, statusCode: err.statusCode, message: err.message } }));
  }
}

main();
