/**
 * Resolves one covered component against a message (RFC 9421 §2.5 step 2.4): picks the context message (the
 * related request when the identifier has `req`, §2.4) and hands the identifier to the derived-component rules
 * (name starting with `@`, §2.2) or the HTTP field rules (§2.1). Never reads a field for an `@` name (§7.5.1).
 *
 * Refuses `req` on a component of a request (§2.4: "MUST NOT be used for any component in a signature that
 * targets a request message") and `req` on a response that has no related request.
 *
 * Does NOT check duplicates or build lines; signature-base.ts does.
 */
import { fail, type Result } from '../result.ts';
import { isDerivedName, type ComponentIdentifier } from './component-identifier.ts';
import { derivedComponentValue } from './derived-component.ts';
import type { HttpSigErrorCode } from './errors.ts';
import { fieldComponentValue, type FieldComponentOptions } from './field-component.ts';
import { isResponse, type HttpSigMessage } from './message.ts';

export type ComponentValueOptions = FieldComponentOptions;

export function componentValue(message: HttpSigMessage, id: ComponentIdentifier, options: ComponentValueOptions = {}): Result<string, HttpSigErrorCode> {
  let context = message;
  if (id.params.has('req')) {
    if (!isResponse(message)) return fail('ERR_SIG_COMPONENT_INVALID', `${id.name}: req is not allowed in a request signature (§2.4)`);
    if (message.request === undefined) return fail('ERR_SIG_COMPONENT_MISSING', `${id.name};req: the response has no related request`);
    context = message.request;
  }
  return isDerivedName(id.name) ? derivedComponentValue(context, id) : fieldComponentValue(context, id, options);
}
