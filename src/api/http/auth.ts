import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { ApiError } from '../errors.js';

/**
 * What a client without a token is told, by every API that refuses one. It names where the
 * token is, so the message alone is enough to fix the call; it names no server path, because
 * whoever reads it is not yet trusted.
 */
export const TOKEN_REQUIRED =
  'this Pave server does not accept requests without its token: send "Authorization: Bearer <token>" with the token from the file "token" in the server\'s data directory (.pave/token by default); kubectl and pave read it from the kubeconfig beside it (.pave/kubeconfig)';

/** What a client whose token does not match is told. */
export const TOKEN_INVALID = 'the bearer token is not valid for this Pave server';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * True when only this machine can reach a server listening on `host`: 127.0.0.0/8, ::1
 * (also IPv4-mapped and written out in full) and `localhost`. Any other name or address,
 * wildcards (0.0.0.0, ::) included, may be reachable from the network.
 */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Who may call without a token: 'anywhere' (pave up --allow-anonymous), 'this-machine' (the
 * default: requests whose peer is a loopback address) or 'never'.
 */
export type AnonymousAccess = 'anywhere' | 'this-machine' | 'never';

/** What a request shows of where it comes from. */
export interface RequestOrigin {
  socket: { remoteAddress?: string };
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Whether a request without a token is served. From this machine means a loopback peer that
 * was not forwarded: a reverse proxy on this machine has a loopback address too, but it says
 * (X-Forwarded-For, Forwarded) that it speaks for someone else, who needs the token.
 */
export function servesAnonymous(access: AnonymousAccess, req: RequestOrigin): boolean {
  if (access !== 'this-machine') return access === 'anywhere';
  const peer = req.socket.remoteAddress;
  return !!peer && isLoopbackHost(peer) && req.headers['x-forwarded-for'] === undefined && req.headers.forwarded === undefined;
}

/**
 * Who a request is, for every API that takes the admin token: 'admin' with the token,
 * 'anonymous' without one from where `anonymous` allows it. Anything else is refused with 401.
 */
export function requestAuthenticator(token: string, anonymous: AnonymousAccess): (req: RequestOrigin) => 'admin' | 'anonymous' {
  const isAdminToken = tokenChecker(token);
  return (req) => {
    const h = req.headers.authorization;
    if (typeof h !== 'string' || !h) {
      if (servesAnonymous(anonymous, req)) return 'anonymous';
      throw new ApiError(401, 'Unauthorized', TOKEN_REQUIRED);
    }
    const given = bearerToken(h);
    if (given !== undefined && isAdminToken(given)) return 'admin';
    throw new ApiError(401, 'Unauthorized', TOKEN_INVALID);
  };
}

/**
 * A check of presented tokens against the admin token. It compares digests in constant time,
 * so a client on the network cannot find the token byte by byte from how long a refusal takes.
 */
export function tokenChecker(token: string): (given: string) => boolean {
  const expected = digest(token);
  return (given) => timingSafeEqual(digest(given), expected);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The token of an `Authorization: Bearer <token>` header, if the header is one. */
export function bearerToken(header: string | undefined): string | undefined {
  return header ? /^Bearer\s+(.+)$/i.exec(header)?.[1] : undefined;
}
