// Where the package's objects could show a secret, in any JavaScript runtime (no Node modules):
// node --test (test/secrets.test.mjs, which adds util.inspect) and headless Chromium
// (test/runtimes.test.mjs) run it. Every public object that holds credentials is made, used to
// sign, and then searched: JSON.stringify, and every own property (enumerable or not, symbols
// too, without calling getters) of it and of the objects it reaches.

export const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
export const TOKEN = 'FQoGZXIvYXdzEXAMPLESESSIONTOKEN';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, sessionToken: TOKEN };
const signingDate = new Date('2024-05-06T07:08:09Z');

/** The objects to search, each named, after one signature each (the engine keeps credentials). */
export async function secretHolders(api) {
  const { AwsClient, SignatureV4 } = api;
  const client = new AwsClient({ ...credentials, service: 'sts', region: 'us-east-1' });
  await client.sign('https://sts.us-east-1.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15', { aws: { signingDate } });
  const request = { method: 'GET', protocol: 'https:', hostname: 'sts.us-east-1.amazonaws.com', path: '/', query: { Action: 'GetCallerIdentity' }, headers: { host: 'sts.us-east-1.amazonaws.com' } };
  const fixed = new SignatureV4({ credentials, region: 'us-east-1', service: 'sts' });
  await fixed.sign(request, { signingDate });
  const provided = new SignatureV4({ credentials: async () => credentials, region: async () => 'us-east-1', service: 'sts' });
  await provided.presign(request, { signingDate });
  const holders = { AwsClient: client, 'SignatureV4 (credentials object)': fixed, 'SignatureV4 (provider)': provided };
  if (api.SignatureV4a) {
    // SigV4a: the signer's engine keeps the P-256 key derived from the secret.
    const v4a = new api.SignatureV4a({ credentials, region: ['us-east-1', 'us-west-2'], service: 's3', uriEscapePath: false });
    await v4a.sign(request, { signingDate });
    await v4a.presign(request, { signingDate });
    holders['SignatureV4a (after sign and presign)'] = v4a;
    const v4aClient = new AwsClient({ ...credentials, service: 's3', signingRegionSet: ['*'] });
    await v4aClient.sign('https://b.mrap.accesspoint.s3-global.amazonaws.com/k', { aws: { signingDate } });
    holders['AwsClient (SigV4a)'] = v4aClient;
  }
  if (api.Engine) {
    const engine = new api.Engine();
    engine.setCredentials(credentials);
    holders.Engine = engine;
  }
  return holders;
}

/** The paths (e.g. `.engine.credentials.secretAccessKey`) at which `object` shows a secret. */
export function ownPropertyLeaks(object, secrets = [SECRET, TOKEN]) {
  const found = [];
  const seen = new Set();
  const walk = (value, path) => {
    if (typeof value === 'string') {
      if (secrets.some((s) => value.includes(s))) found.push(path || '(the value)');
      return;
    }
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) return;
    seen.add(value);
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if ('value' in descriptor) walk(descriptor.value, `${path}.${String(key)}`);
    }
  };
  walk(object, '');
  return found;
}

/** Whether JSON.stringify of `object` shows a secret. */
export function jsonLeaks(object, secrets = [SECRET, TOKEN]) {
  const json = JSON.stringify(object) ?? '';
  return secrets.some((s) => json.includes(s));
}

/** { name: [what shows a secret] } for every holder that shows one; {} when none does. */
export async function checkSecrets(api) {
  const report = {};
  for (const [name, object] of Object.entries(await secretHolders(api))) {
    const leaks = ownPropertyLeaks(object);
    if (jsonLeaks(object)) leaks.push('JSON.stringify');
    if (leaks.length > 0) report[name] = leaks;
  }
  return report;
}
