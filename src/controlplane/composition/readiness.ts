import type { Resource } from '../../api/types.js';
import { getFieldPath } from '../fieldpath.js';

/** Crossplane's readiness checks on a composed resource. */
export interface ReadinessCheck {
  type: 'None' | 'MatchString' | 'MatchInteger' | 'MatchTrue' | 'MatchFalse' | 'MatchCondition' | 'NonEmpty';
  fieldPath?: string;
  matchString?: string;
  matchInteger?: number;
  matchCondition?: { type: string; status: string };
}

const DEFAULT_CHECKS: ReadinessCheck[] = [{ type: 'MatchCondition', matchCondition: { type: 'Ready', status: 'True' } }];

/**
 * Whether an observed composed resource is ready. With no checks, a resource is ready when its
 * Ready condition is True, as in Crossplane. Throws naming the check index when a check is malformed.
 */
export function isReady(observed: Resource | undefined, checks: ReadinessCheck[] | undefined): boolean {
  if (!observed) return false;
  const list = checks && checks.length ? checks : DEFAULT_CHECKS;
  return list.every((c, i) => check(observed, c, i));
}

function check(o: Resource, c: ReadinessCheck, i: number): boolean {
  const needPath = () => {
    if (!c.fieldPath) throw new Error(`readiness check ${i} (${c.type}): fieldPath is required`);
    return getFieldPath(o, c.fieldPath);
  };
  switch (c.type) {
    case 'None':
      return true;
    case 'NonEmpty':
      // Crossplane's NonEmpty means "the field exists": "" or {} count, a missing field does not
      return needPath() !== undefined;
    case 'MatchString':
      return needPath() === c.matchString;
    case 'MatchInteger': {
      // an integer field only: "3" is not 3
      const v = needPath();
      return typeof v === 'number' && v === c.matchInteger;
    }
    case 'MatchTrue':
      return needPath() === true;
    case 'MatchFalse':
      return needPath() === false;
    case 'MatchCondition': {
      const want = c.matchCondition ?? { type: 'Ready', status: 'True' };
      const conds = (o.status?.conditions ?? []) as { type: string; status: string }[];
      // a condition the resource does not report is Unknown, as Crossplane reads it
      return (conds.find((x) => x.type === want.type)?.status ?? 'Unknown') === want.status;
    }
    default:
      throw new Error(`readiness check ${i}: unknown type "${(c as { type: string }).type}"`);
  }
}
