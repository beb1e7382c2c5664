import { fsErrors } from '../../errors.js';
import { parseAuditQuery } from '../../audit/audit-query.js';
import type { ScopeHandle } from '../../types.js';
import { sendJson } from '../responses.js';
import type { Route } from '../router.js';

/** `GET /v1/audit?path=&actor=&since=&limit=`: the audit log, newest first (the owner's; a limited token gets 403). */
export function auditRoutes(scope: ScopeHandle): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/audit',
      handler: async ({ res, query }) => {
        const get = (name: string): string | undefined => query.get(name) ?? undefined;
        const parsed = parseAuditQuery({ path: get('path'), actor: get('actor'), since: get('since'), limit: get('limit') });
        if (!scope.audit) throw fsErrors.invalid('this scope keeps no audit log (it was started with audit: { enabled: false })');
        sendJson(res, 200, { entries: await scope.audit(parsed) });
      },
    },
  ];
}
