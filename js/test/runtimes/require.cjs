// A CommonJS caller: require() of the package (an ES module without top-level await, which
// Node 20.19+ and 22.12+ load synchronously). Prints what each API gives for one request.
const { signSync, presignSync, SignatureV4, AwsClient, SigV4Error } = require('sigv4-wasm');

const request = { method: 'GET', url: 'https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15' };
const options = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', region: 'us-east-1', service: 'sts', signingDate: '2024-05-06T07:08:09Z' };
process.stdout.write(JSON.stringify({
  headers: signSync(request, options),
  url: presignSync(request, options),
  classes: [typeof SignatureV4, typeof AwsClient, typeof SigV4Error],
}));
