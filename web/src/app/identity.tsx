import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { getEntity, parseRef, relationTargets } from '../api/catalog';

/**
 * Who the person at the browser is, for "owned by me" and as the default owner of new
 * requests. The local server trusts its loopback user, so the identity is chosen in the
 * header and remembered in the browser; the groups come from the User entity's memberOf.
 */
export interface Identity {
  userRef: string;
  /** The user and every group they are a member of: the refs that count as "mine". */
  ownershipRefs: string[];
  setUser(ref: string): void;
}

const KEY = 'pave.user';
const IdentityContext = createContext<Identity>({ userRef: 'user:default/guest', ownershipRefs: ['user:default/guest'], setUser: () => {} });

export function IdentityProvider({ children }: { children: ReactNode }) {
  const [userRef, setUserRef] = useState(() => localStorage.getItem(KEY) ?? 'user:default/guest');
  const [groups, setGroups] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    getEntity(parseRef(userRef, { kind: 'user' }))
      .then((u) => live && setGroups(relationTargets(u, 'memberOf')))
      .catch(() => live && setGroups([]));
    return () => {
      live = false;
    };
  }, [userRef]);
  const setUser = (ref: string) => {
    localStorage.setItem(KEY, ref);
    setUserRef(ref);
  };
  return <IdentityContext.Provider value={{ userRef, ownershipRefs: [userRef, ...groups], setUser }}>{children}</IdentityContext.Provider>;
}

export function useIdentity(): Identity {
  return useContext(IdentityContext);
}
