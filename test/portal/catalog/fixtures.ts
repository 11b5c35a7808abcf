import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Writes files (path → content) under `dir`. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
}

/** A small org and system in Backstage's example-catalog format: every kind, a Location with targets. */
export const exampleCatalog: Record<string, string> = {
  'all.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: example-groups
  description: A collection of all Backstage example entities
spec:
  targets:
    - ./org.yaml
    - ./systems.yaml
    - ./components/*.yaml
    - ./apis.yaml
`,
  'org.yaml': `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: acme-corp
  description: The acme-corp organization
spec:
  type: organization
  profile:
    displayName: ACME Corp
  children: [infrastructure]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: infrastructure
spec:
  type: department
  parent: acme-corp
  children: [team-a, team-b]
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  parent: infrastructure
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-b
spec:
  type: team
  parent: infrastructure
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: breanna.davison
spec:
  profile:
    displayName: Breanna Davison
    email: breanna-davison@example.com
  memberOf: [team-a]
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: janelle.dawe
spec:
  profile:
    displayName: Janelle Dawe
  memberOf: [team-a, team-b]
`,
  'systems.yaml': `apiVersion: backstage.io/v1alpha1
kind: Domain
metadata:
  name: artists
spec:
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: audio-playback
  tags: [audio]
spec:
  owner: team-a
  domain: artists
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: artists-db
spec:
  type: database
  owner: team-a
  system: audio-playback
`,
  'components/artist-lookup.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: artist-lookup
  title: Artist Lookup
  description: Artist Lookup
  tags: [java, data]
  links:
    - url: https://example.com/user
      title: Examples Users
  annotations:
    backstage.io/techdocs-ref: dir:.
spec:
  type: service
  lifecycle: experimental
  owner: team-a
  system: audio-playback
  providesApis: [spotify]
  dependsOn: ['resource:artists-db']
`,
  'components/playback.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: playback-order
  description: Playback Order
spec:
  type: website
  lifecycle: production
  owner: user:janelle.dawe
  system: audio-playback
  consumesApis: [spotify]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Broken_Thing
spec:
  type: service
  owner: team-b
`,
  'apis.yaml': `apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: spotify
  description: The Spotify web API
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  system: audio-playback
  definition:
    $text: ./spotify-openapi.yaml
`,
  'spotify-openapi.yaml': 'openapi: 3.0.0\ninfo:\n  title: Spotify\n  version: 1.0.0\npaths: {}\n',
};
