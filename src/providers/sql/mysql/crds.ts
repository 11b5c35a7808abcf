import type { Resource } from '../../../api/types.js';
import { arr, bool, enumOf, managedCrd, obj, providerConfigCrd, reference, secretKeySelector, secretReference, selector, str } from '../../managed-crd.js';

export const MYSQL_GROUP = 'mysql.sql.crossplane.io';

const count = { type: 'integer', minimum: 0 };

/** provider-sql's mysql.sql.crossplane.io/v1alpha1 kinds, field for field. */
export function mysqlCrds(): Resource[] {
  return [
    providerConfigCrd(
      MYSQL_GROUP,
      obj(
        {
          credentials: obj({ source: enumOf('MySQLConnectionSecret'), connectionSecretRef: secretReference }, ['source']),
          tls: enumOf('true', 'skip-verify', 'preferred'),
        },
        ['credentials'],
      ),
    ),
    managedCrd({
      group: MYSQL_GROUP,
      kind: 'Database',
      forProvider: obj({ replicate: bool }),
      atProvider: obj({ characterSet: str, collation: str }),
      categories: ['crossplane', 'managed', 'sql'],
    }),
    managedCrd({
      group: MYSQL_GROUP,
      kind: 'User',
      forProvider: obj({
        passwordSecretRef: secretKeySelector,
        resourceOptions: obj({ maxQueriesPerHour: count, maxUpdatesPerHour: count, maxConnectionsPerHour: count, maxUserConnections: count }),
        authPlugin: { type: 'string', pattern: '^([a-z]+_)+[a-z]+$' },
        usePassword: bool,
        replicate: bool,
      }),
      atProvider: obj({ resourceOptionsAsClauses: arr(str) }),
      categories: ['crossplane', 'managed', 'sql'],
    }),
    managedCrd({
      group: MYSQL_GROUP,
      kind: 'Grant',
      forProvider: obj({
        privileges: arr({ type: 'string', pattern: '^[A-Z_ ]+$' }, { minItems: 1 }),
        user: str,
        userRef: reference,
        userSelector: selector,
        table: str,
        database: str,
        databaseRef: reference,
        databaseSelector: selector,
        binlog: bool,
      }),
      required: ['privileges'],
      atProvider: obj({ privileges: arr(str) }),
      columns: [
        { name: 'ROLE', type: 'string', jsonPath: '.spec.forProvider.user' },
        { name: 'DATABASE', type: 'string', jsonPath: '.spec.forProvider.database' },
        { name: 'PRIVILEGES', type: 'string', jsonPath: '.spec.forProvider.privileges' },
      ],
      categories: ['crossplane', 'managed', 'sql'],
    }),
  ];
}
