/** The config's JSON Schema, generated from the zod schema so the two cannot drift. */
import * as z from 'zod';
import { gatewayConfigSchema } from './schema.ts';

export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(gatewayConfigSchema, { io: 'input', target: 'draft-2020-12' }),
    title: 'Portcullis gateway configuration',
  };
}
