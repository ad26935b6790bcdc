// Independent RFC 9421 signer/verifier (npm http-message-signatures) used to
// check that Breakwater's Go implementation interoperates with a third-party
// one. Usage: node interop.mjs <mode> < input.json ; see README.md.
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { httpbis, createSigner, createVerifier } from 'http-message-signatures';

const REQUEST_FIELDS = ['@method', '@target-uri', 'content-digest'];
const RESPONSE_FIELDS = ['@status', 'content-digest'];

function contentDigest(body) {
  const sum = createHash('sha256').update(Buffer.from(body ?? '', 'utf8')).digest('base64');
  return `sha-256=:${sum}:`;
}

function lowerKeys(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

// sign-request: {privateKeyPem, keyid, created, method, url, headers, body,
// label?, params?, fields?} -> the request's headers, lower-cased, with
// content-digest, signature-input and signature added.
async function signRequest(input) {
  const key = createSigner(createPrivateKey(input.privateKeyPem), 'ed25519', input.keyid);
  const headers = lowerKeys(input.headers);
  headers['content-digest'] = contentDigest(input.body);
  const signed = await httpbis.signMessage({
    key,
    name: input.label ?? 'sig1',
    params: input.params ?? ['created', 'keyid'],
    fields: input.fields ?? REQUEST_FIELDS,
    paramValues: { created: new Date(input.created * 1000) },
  }, { method: input.method, url: input.url, headers });
  return lowerKeys(signed.headers);
}

async function verify(input, message, requiredFields, requiredParams) {
  const verifier = createVerifier(createPublicKey(input.publicKeyPem), 'ed25519');
  const headers = lowerKeys(input.headers);
  if (input.body !== undefined && headers['content-digest'] !== contentDigest(input.body)) {
    return { verified: false, error: 'content-digest does not match body' };
  }
  try {
    const ok = await httpbis.verifyMessage({
      keyLookup: async () => ({ id: 'any', algs: ['ed25519'], verify: verifier }),
      requiredFields,
      requiredParams,
      maxAge: input.maxAge ?? 900,
      tolerance: input.tolerance ?? 5,
    }, { ...message, headers });
    return { verified: ok === true };
  } catch (e) {
    return { verified: false, error: String(e && e.message ? e.message : e) };
  }
}

const modes = {
  'sign-request': signRequest,
  // verify-response: {publicKeyPem, status, headers, body?, maxAge?}
  'verify-response': (input) => verify(input, { status: input.status }, RESPONSE_FIELDS, ['created']),
  // verify-request: {publicKeyPem, method, url, headers, body?, maxAge?}
  'verify-request': (input) => verify(input, { method: input.method, url: input.url }, REQUEST_FIELDS, ['created', 'keyid']),
};

const mode = modes[process.argv[2]];
if (!mode) {
  process.stderr.write(`usage: node interop.mjs (${Object.keys(modes).join('|')}) < input.json\n`);
  process.exit(2);
}
try {
  process.stdout.write(JSON.stringify(await mode(await readStdin())) + '\n');
} catch (e) {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
}
