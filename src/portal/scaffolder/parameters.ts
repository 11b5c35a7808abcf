import { Ajv, type ValidateFunction } from 'ajv';
import { jsonClone } from '../../api/clone.js';
import { ApiError } from '../../api/errors.js';

/** A template's spec.parameters as the list of step schemas it stands for (one object or many). */
export function parameterSteps(parameters: unknown): Record<string, any>[] {
  return (Array.isArray(parameters) ? parameters : parameters ? [parameters] : []).filter((s) => s && typeof s === 'object');
}

/**
 * A template's parameter steps as the scaffolder checks them when a task is submitted: each
 * step's JSON Schema is compiled once per version of the template, the values are checked against
 * every step (as Backstage's backend does), and a value the caller left out takes the default
 * the form would have shown, so `POST /v2/tasks` and `pave create` behave like the form.
 */
export class ParameterCheck {
  // ui:* keys and custom fields are not JSON Schema keywords: not strict
  private readonly ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
  private readonly compiled = new Map<string, ValidateFunction[]>();

  /** The values with defaults filled in, or a 400 naming every field that is wrong. */
  check(templateRef: string, parameters: unknown, values: Record<string, unknown>): Record<string, unknown> {
    // keyed by the schema itself: a template edited in its repository gets a new one
    const key = `${templateRef}\0${JSON.stringify(parameters ?? null)}`;
    let steps = this.compiled.get(key);
    if (!steps) {
      try {
        steps = parameterSteps(parameters).map((s) => this.ajv.compile(s));
      } catch (e) {
        throw ApiError.badRequest(`Template ${templateRef}: spec.parameters is not a valid JSON Schema: ${(e as Error).message}`);
      }
      if (this.compiled.size > 500) this.compiled.clear();
      this.compiled.set(key, steps);
    }
    const out = jsonClone(values);
    const problems: string[] = [];
    for (const validate of steps) {
      if (validate(out)) continue;
      for (const e of validate.errors ?? []) {
        const required = e.keyword === 'required';
        const field = (required ? `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}` : e.instancePath).replace(/^\//, '').replace(/\//g, '.');
        problems.push(`${field || '(values)'} ${required ? 'is required' : e.message}`);
      }
    }
    if (problems.length) throw ApiError.badRequest(`Parameters did not validate for ${templateRef}: ${[...new Set(problems)].join('; ')}`);
    return out;
  }
}
