import { useCallback, useEffect, useRef, useState } from 'react';
import { keyOf, watchObjects, type Ref, type Resource, type WatchType } from '../api/k8s';
import type { ApiFailure } from '../api/http';

export interface Async<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change; keeps the last data while reloading so views do not flicker. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], opts: { pollMs?: number } = {}): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => live && setState({ data, loading: false }),
      (error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  useEffect(() => {
    if (!opts.pollMs) return;
    const t = setInterval(() => document.visibilityState === 'visible' && setTick((x) => x + 1), opts.pollMs);
    return () => clearInterval(t);
  }, [opts.pollMs]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/**
 * The live set of objects of one kind matching `opts` (or undefined while the first list
 * runs), kept current by a watch. `error` is the last failure; it clears on the next event.
 */
export function useWatch(apiVersion: string | undefined, kind: string | undefined, opts: { namespace?: string; name?: string; labelSelector?: string } = {}): { items?: Resource[]; error?: ApiFailure } {
  const [items, setItems] = useState<Map<string, Resource>>();
  const [error, setError] = useState<ApiFailure>();
  const key = `${apiVersion}|${kind}|${opts.namespace}|${opts.name}|${opts.labelSelector}`;
  useEffect(() => {
    setItems(undefined);
    setError(undefined);
    if (!apiVersion || !kind) return;
    const ctl = new AbortController();
    let current = new Map<string, Resource>();
    let flush: number | undefined;
    // Events arrive in bursts; render once per frame.
    const schedule = () => {
      flush ??= requestAnimationFrame(() => {
        flush = undefined;
        setItems(new Map(current));
        setError(undefined);
      });
    };
    watchObjects(
      apiVersion,
      kind,
      opts,
      {
        onListed: (list) => {
          current = new Map(list.map((o) => [nsName(o), o]));
          schedule();
        },
        onEvent: (type: WatchType, obj: Resource) => {
          if (type === 'DELETED') current.delete(nsName(obj));
          else current.set(nsName(obj), obj);
          schedule();
        },
        onError: (e) => {
          setError(e);
          setItems((s) => s ?? new Map());
        },
      },
      ctl.signal,
    );
    return () => {
      ctl.abort();
      if (flush) cancelAnimationFrame(flush);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return { items: items ? [...items.values()] : undefined, error };
}

function nsName(o: Resource): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/**
 * Several named objects, each kept current by its own watch. The map holds undefined for an
 * object that does not exist (yet), so a view can draw it as missing.
 */
export function useObjects(refs: Ref[]): Map<string, Resource | undefined> {
  const [objects, setObjects] = useState(new Map<string, Resource | undefined>());
  const key = refs.map(keyOf).sort().join('|');
  useEffect(() => {
    const ctl = new AbortController();
    const current = new Map<string, Resource | undefined>(refs.map((r) => [keyOf(r), undefined]));
    setObjects(new Map(current));
    for (const r of refs) {
      const k = keyOf(r);
      watchObjects(
        r.apiVersion,
        r.kind,
        { namespace: r.namespace, name: r.name },
        {
          onListed: (items) => {
            current.set(k, items[0]);
            setObjects(new Map(current));
          },
          onEvent: (type, obj) => {
            current.set(k, type === 'DELETED' ? undefined : obj);
            setObjects(new Map(current));
          },
        },
        ctl.signal,
      );
    }
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return objects;
}

/**
 * Every object of `types` that carries the labels `labelSelector` asks for, kept current by one
 * watch per type however many objects match: a browser opens at most six connections to a
 * server, so a page with a watch per object stops loading anything else once it shows a few
 * more. Keyed by keyOf, at the apiVersion each type was asked for. A type added later is
 * listed then; until it is, the objects already known stay in the map, so views do not flicker.
 */
export function useLabelledObjects(types: { apiVersion: string; kind: string }[], labelSelector: string | undefined): Map<string, Resource> {
  const [objects, setObjects] = useState(new Map<string, Resource>());
  const latest = useRef(objects);
  latest.current = objects;
  const unique = [...new Map(types.map((t) => [`${t.apiVersion}/${t.kind}`, t])).values()];
  const key = labelSelector === undefined ? '' : `${unique.map((t) => `${t.apiVersion}/${t.kind}`).sort().join('|')}?${labelSelector}`;
  useEffect(() => {
    if (!key) return;
    const ctl = new AbortController();
    const byType = unique.map((t) => {
      const prefix = `${t.apiVersion}/${t.kind}/`;
      return { t, found: new Map([...latest.current].filter(([k]) => k.startsWith(prefix))) };
    });
    const publish = () => setObjects(new Map(byType.flatMap((b) => [...b.found])));
    for (const { t, found } of byType) {
      const keyOfObject = (o: Resource) => keyOf({ apiVersion: t.apiVersion, kind: t.kind, name: o.metadata.name!, namespace: o.metadata.namespace });
      watchObjects(
        t.apiVersion,
        t.kind,
        { labelSelector },
        {
          onListed: (items) => {
            found.clear();
            for (const o of items) found.set(keyOfObject(o), o);
            publish();
          },
          onEvent: (type, o) => {
            if (type === 'DELETED') found.delete(keyOfObject(o));
            else found.set(keyOfObject(o), o);
            publish();
          },
        },
        ctl.signal,
      );
    }
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return objects;
}
