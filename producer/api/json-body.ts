// The API's JSON body parser. fastify's own answers every failure with "Body is not valid JSON", a
// body that is valid JSON but carries a "__proto__" key included; this one says what is wrong. Both
// refuse such keys (secure-json-parse, as fastify does): an input must not be able to reach the
// prototype of every object in a process that copies or merges it.
import type { FastifyInstance } from 'fastify';
import secureJson from 'secure-json-parse';
import { ErrorCodes, PhotonsError } from '../../errors';

export function parseJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  // parseAs 'string': fastify reads the body within bodyLimit and answers 413 past it, as before.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}

function parseBody(text: string): unknown {
  if (text.length === 0) throw new PhotonsError(ErrorCodes.BAD_REQUEST, 'The body is empty but Content-Type says JSON: send a JSON object.');
  let why = '';
  try {
    return secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    why = (err as Error).message;
  }
  // secure-json-parse says "forbidden prototype property" for both keys, JSON.parse's own message otherwise.
  if (!why.includes('forbidden prototype property')) throw new PhotonsError(ErrorCodes.BAD_REQUEST, `The body is not valid JSON (${why}).`);
  throw new PhotonsError(
    ErrorCodes.BAD_REQUEST,
    'The body has a "__proto__" key, or a "constructor" key holding "prototype": the API refuses them, since a process that copies such an input can change the prototype of every object. Rename the key.',
  );
}
