/**
 * Backstage templates put UI hints (`ui:field`, `ui:options`, ...) inside the JSON Schema of each
 * parameter step. The form library wants them apart, so this splits a step's schema into a
 * plain JSON Schema and a uiSchema of the same shape. Backstage's custom fields (OwnerPicker,
 * EntityPicker, ...) become widgets of the same name.
 */
export interface SplitSchema {
  schema: Record<string, any>;
  uiSchema: Record<string, any>;
}

export const PICKER_FIELDS = ['OwnerPicker', 'EntityPicker', 'MyGroupsPicker', 'OwnedEntityPicker', 'EntityNamePicker', 'RepoUrlPicker', 'EntityTagsPicker'];

export function splitUiSchema(input: Record<string, any>): SplitSchema {
  const schema: Record<string, any> = {};
  const uiSchema: Record<string, any> = {};
  for (const [k, v] of Object.entries(input)) {
    if (k.startsWith('ui:')) {
      if (k === 'ui:field' && PICKER_FIELDS.includes(String(v))) uiSchema['ui:widget'] = v;
      else uiSchema[k] = v;
      continue;
    }
    if (k === 'properties' && v && typeof v === 'object') {
      schema.properties = {};
      for (const [name, prop] of Object.entries(v as Record<string, any>)) {
        const s = splitUiSchema(prop);
        schema.properties[name] = s.schema;
        if (Object.keys(s.uiSchema).length) uiSchema[name] = s.uiSchema;
      }
      continue;
    }
    if (k === 'items' && v && typeof v === 'object' && !Array.isArray(v)) {
      const s = splitUiSchema(v);
      schema.items = s.schema;
      if (Object.keys(s.uiSchema).length) uiSchema.items = s.uiSchema;
      continue;
    }
    if ((k === 'dependencies' || k === 'allOf' || k === 'oneOf' || k === 'anyOf') && v && typeof v === 'object') {
      // Hints inside conditional branches are kept for the schema only; their fields render with defaults.
      schema[k] = stripUi(v);
      continue;
    }
    schema[k] = v;
  }
  return { schema, uiSchema };
}

function stripUi(v: any): any {
  if (Array.isArray(v)) return v.map(stripUi);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('ui:')).map(([k, x]) => [k, stripUi(x)]));
}

/** The fields of a step whose value must name an existing catalog entity, with the kinds allowed. */
export function entityFields(uiSchema: Record<string, any>): { name: string; kinds: string[]; widget: string }[] {
  const out: { name: string; kinds: string[]; widget: string }[] = [];
  for (const [name, ui] of Object.entries(uiSchema)) {
    const widget = ui?.['ui:widget'];
    if (widget === 'OwnerPicker' || widget === 'EntityPicker' || widget === 'OwnedEntityPicker' || widget === 'MyGroupsPicker') {
      const opts = ui['ui:options'] ?? {};
      const kinds: string[] = opts.catalogFilter?.kind ? [opts.catalogFilter.kind].flat() : opts.allowedKinds ?? (widget === 'EntityPicker' || widget === 'OwnedEntityPicker' ? [] : ['Group', 'User']);
      out.push({ name, kinds: kinds.map(String), widget });
    }
  }
  return out;
}
