import type { Resource } from '../../../api/types.js';
import { arr, bool, enumOf, int, managedCrd, obj, providerConfigCrd, reference, secretKeySelector, secretReference, selector, str } from '../../managed-crd.js';

export const POSTGRESQL_GROUP = 'postgresql.sql.crossplane.io';

/** provider-sql's postgresql.sql.crossplane.io/v1alpha1 kinds, field for field. */
export function postgresqlCrds(): Resource[] {
  return [
    providerConfigCrd(
      POSTGRESQL_GROUP,
      obj(
        {
          credentials: obj({ source: enumOf('PostgreSQLConnectionSecret'), connectionSecretRef: secretReference }, ['source']),
          defaultDatabase: { type: 'string', default: 'postgres' },
          sslmode: enumOf('disable', 'require', 'verify-ca', 'verify-full'),
        },
        ['credentials'],
      ),
    ),
    managedCrd({
      group: POSTGRESQL_GROUP,
      kind: 'Database',
      forProvider: obj({
        owner: str,
        template: str,
        encoding: str,
        lcCollate: str,
        lcCType: str,
        tablespace: str,
        allowConnections: bool,
        connectionLimit: int,
        isTemplate: bool,
      }),
      categories: ['crossplane', 'managed', 'sql'],
    }),
    managedCrd({
      group: POSTGRESQL_GROUP,
      kind: 'Role',
      forProvider: obj({
        connectionLimit: { type: 'integer', minimum: -1 },
        privileges: obj({ superUser: bool, createDb: bool, createRole: bool, login: bool, inherit: bool, replication: bool, bypassRls: bool }),
        passwordSecretRef: secretKeySelector,
      }),
      atProvider: obj({ privilegesAsClauses: str }),
      columns: [
        { name: 'CONN LIMIT', type: 'integer', jsonPath: '.spec.forProvider.connectionLimit' },
        { name: 'PRIVILEGES', type: 'string', jsonPath: '.status.atProvider.privilegesAsClauses' },
      ],
      categories: ['crossplane', 'managed', 'sql'],
    }),
    managedCrd({
      group: POSTGRESQL_GROUP,
      kind: 'Grant',
      forProvider: obj({
        privileges: arr({ type: 'string', pattern: '^[A-Z]+$' }, { minItems: 1 }),
        withOption: enumOf('ADMIN', 'GRANT'),
        role: str,
        roleRef: reference,
        roleSelector: selector,
        database: str,
        databaseRef: reference,
        databaseSelector: selector,
        memberOf: str,
        memberOfRef: reference,
        memberOfSelector: selector,
      }),
      columns: [
        { name: 'ROLE', type: 'string', jsonPath: '.spec.forProvider.role' },
        { name: 'MEMBER OF', type: 'string', jsonPath: '.spec.forProvider.memberOf' },
        { name: 'DATABASE', type: 'string', jsonPath: '.spec.forProvider.database' },
        { name: 'PRIVILEGES', type: 'string', jsonPath: '.spec.forProvider.privileges' },
      ],
      categories: ['crossplane', 'managed', 'sql'],
    }),
  ];
}
