import type { WidgetProps } from '@rjsf/utils';
import { useEffect, useState } from 'react';
import { queryEntities, stringifyRef } from '../api/catalog';

/**
 * Backstage's scaffolder field extensions, as form widgets: pickers offer catalog entities as
 * suggestions while typing (the value stays free text, so it is checked before the form moves
 * on: see TemplateFormPage), the repository picker builds Backstage's `host?owner=&repo=` URL.
 */

function useEntitySuggestions(kinds: string[], text: string): string[] {
  const [refs, setRefs] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    const t = setTimeout(() => {
      queryEntities({ filter: { kind: kinds.map((k) => k.toLowerCase()) }, text, limit: 20 })
        .then((r) => live && setRefs(r.items.map((e) => stringifyRef(e))))
        .catch(() => live && setRefs([]));
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [kinds.join(','), text]);
  return refs;
}

function EntityInput(props: WidgetProps & { kinds: string[] }) {
  const { id, value, onChange, onBlur, onFocus, required, disabled, readonly, kinds, rawErrors, placeholder } = props;
  const text = typeof value === 'string' ? value : '';
  const suggestions = useEntitySuggestions(kinds, text.replace(/^[a-z]+:/, '').replace(/^[^/]*\//, ''));
  return (
    <>
      <input
        id={id}
        className="form-control"
        list={`${id}-options`}
        value={text}
        required={required}
        disabled={disabled || readonly}
        placeholder={placeholder || (kinds.length ? `${kinds.join(' or ').toLowerCase()} name` : 'entity reference')}
        autoComplete="off"
        aria-invalid={rawErrors?.length ? true : undefined}
        aria-describedby={rawErrors?.length ? `${id}__error` : undefined}
        onChange={(e) => onChange(e.target.value || undefined)}
        onBlur={(e) => onBlur(id, e.target.value)}
        onFocus={(e) => onFocus(id, e.target.value)}
      />
      <datalist id={`${id}-options`}>
        {suggestions.map((r) => (
          <option key={r} value={r} />
        ))}
      </datalist>
    </>
  );
}

export function OwnerPicker(props: WidgetProps) {
  const opts = props.options as { catalogFilter?: { kind?: string | string[] }; allowedKinds?: string[] };
  const kinds = opts.catalogFilter?.kind ? [opts.catalogFilter.kind].flat() : opts.allowedKinds ?? ['Group', 'User'];
  return <EntityInput {...props} kinds={kinds} />;
}

export function EntityPicker(props: WidgetProps) {
  const opts = props.options as { catalogFilter?: { kind?: string | string[] }; allowedKinds?: string[] };
  const kinds = opts.catalogFilter?.kind ? [opts.catalogFilter.kind].flat() : opts.allowedKinds ?? [];
  return <EntityInput {...props} kinds={kinds} />;
}

export function EntityNamePicker(props: WidgetProps) {
  const { id, value, onChange, required, disabled, readonly, rawErrors, onBlur, onFocus } = props;
  return (
    <input
      id={id}
      className="form-control"
      value={typeof value === 'string' ? value : ''}
      required={required}
      disabled={disabled || readonly}
      placeholder="lowercase letters, digits and dashes"
      aria-invalid={rawErrors?.length ? true : undefined}
      aria-describedby={rawErrors?.length ? `${id}__error` : undefined}
      onChange={(e) => onChange(e.target.value || undefined)}
      onBlur={(e) => onBlur(id, e.target.value)}
      onFocus={(e) => onFocus(id, e.target.value)}
    />
  );
}

export function EntityTagsPicker(props: WidgetProps) {
  const { id, value, onChange, disabled, readonly } = props;
  const tags = Array.isArray(value) ? (value as string[]) : [];
  return <input id={id} className="form-control" value={tags.join(', ')} disabled={disabled || readonly} placeholder="comma-separated tags" onChange={(e) => onChange(e.target.value.split(',').map((s) => s.trim()).filter(Boolean))} />;
}

/** `host?owner=o&repo=r`, the value format of Backstage's RepoUrlPicker. */
export function RepoUrlPicker(props: WidgetProps) {
  const { id, value, onChange, disabled, readonly, rawErrors } = props;
  const allowedHosts = (props.options as { allowedHosts?: string[] }).allowedHosts;
  const parsed = parseRepoUrl(typeof value === 'string' ? value : '');
  const host = parsed.host || allowedHosts?.[0] || location.host;
  const set = (next: { owner?: string; repo?: string; host?: string }) => {
    const v = { host, owner: parsed.owner, repo: parsed.repo, ...next };
    onChange(v.owner || v.repo ? `${v.host}?owner=${encodeURIComponent(v.owner)}&repo=${encodeURIComponent(v.repo)}` : undefined);
  };
  return (
    <div className="repo-picker" role="group" aria-labelledby={`${id}-label`}>
      <span id={`${id}-label`} className="visually-hidden">
        Repository
      </span>
      <label>
        Host
        {allowedHosts && allowedHosts.length > 1 ? (
          <select value={host} disabled={disabled || readonly} onChange={(e) => set({ host: e.target.value })}>
            {allowedHosts.map((h) => (
              <option key={h}>{h}</option>
            ))}
          </select>
        ) : (
          <input value={host} readOnly aria-readonly="true" />
        )}
      </label>
      <label>
        Owner
        <input id={id} value={parsed.owner} disabled={disabled || readonly} aria-invalid={rawErrors?.length ? true : undefined} onChange={(e) => set({ owner: e.target.value })} />
      </label>
      <label>
        Repository
        <input value={parsed.repo} disabled={disabled || readonly} aria-invalid={rawErrors?.length ? true : undefined} onChange={(e) => set({ repo: e.target.value })} />
      </label>
    </div>
  );
}

export function parseRepoUrl(v: string): { host: string; owner: string; repo: string } {
  const q = v.indexOf('?');
  const params = new URLSearchParams(q >= 0 ? v.slice(q + 1) : '');
  return { host: q >= 0 ? v.slice(0, q) : v, owner: params.get('owner') ?? '', repo: params.get('repo') ?? '' };
}

export const widgets = { OwnerPicker, EntityPicker, OwnedEntityPicker: EntityPicker, MyGroupsPicker: OwnerPicker, EntityNamePicker, EntityTagsPicker, RepoUrlPicker };
