import { ApiError } from './errors.js';
import type { ResourceType } from './registry.js';
import type { Resource } from './types.js';

export interface UserInfo {
  name: string;
  groups: string[];
}

export const ADMIN: UserInfo = { name: 'pave:admin', groups: ['system:masters'] };
export const SYSTEM: UserInfo = { name: 'system:pave', groups: ['system:masters'] };
export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** Who is asking, and how: carried from the HTTP request (or the in-process caller) to admission. */
export interface RequestContext {
  user: UserInfo;
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Filled by the server: messages for the client's Warning header. */
  warnings?: string[];
}

export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  type: ResourceType;
  subresource?: string;
  /** The object as it will be stored (mutators may change it). Undefined on DELETE. */
  object?: Resource;
  oldObject?: Resource;
  ctx: RequestContext;
}

/** Decides whether `user` may do `verb` on objects of `type`. Return a reason to deny. */
export type Authorizer = (user: UserInfo, verb: Verb, type: ResourceType, namespace: string, name?: string) => string | undefined;

/** A mutating step: may change req.object; throws an ApiError to reject. */
export type Mutator = (req: AdmissionRequest) => void | Promise<void>;
/** A validating step: throws an ApiError to reject; must not change anything. */
export type Validator = (req: AdmissionRequest) => void | Promise<void>;

/**
 * The admission chain after authentication (done by the transport): authorization, then
 * (inside the ResourceService) defaulting and schema validation, then mutating and validating
 * policies in the order they were added.
 */
export class Admission {
  private mutators: { name: string; fn: Mutator }[] = [];
  private validators: { name: string; fn: Validator }[] = [];

  constructor(private authorizer: Authorizer = allowAll) {}

  setAuthorizer(a: Authorizer): void {
    this.authorizer = a;
  }

  addMutator(name: string, fn: Mutator): void {
    this.mutators.push({ name, fn });
  }

  addValidator(name: string, fn: Validator): void {
    this.validators.push({ name, fn });
  }

  get hasPolicies(): boolean {
    return this.mutators.length > 0 || this.validators.length > 0;
  }

  authorize(ctx: RequestContext, verb: Verb, type: ResourceType, namespace: string, name?: string): void {
    const denied = this.authorizer(ctx.user, verb, type, namespace, name);
    if (denied !== undefined) {
      const what = type.group ? `${type.plural}.${type.group}` : type.plural;
      const where = type.scope === 'Namespaced' ? ` in the namespace "${namespace}"` : ' at the cluster scope';
      throw new ApiError(403, 'Forbidden', `${what}${name ? ` "${name}"` : ''} is forbidden: User "${ctx.user.name}" cannot ${verb} resource "${type.plural}" in API group "${type.group}"${where}: ${denied}`, {
        name,
        group: type.group,
        kind: type.plural,
      });
    }
  }

  async run(req: AdmissionRequest): Promise<void> {
    for (const m of this.mutators) await m.fn(req);
    for (const v of this.validators) await v.fn(req);
  }
}

export const allowAll: Authorizer = () => undefined;
