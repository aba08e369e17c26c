// The officer's morning as four calls: the home screen, sign-in, the daily report, a problem.
// Writes go through the outbox (safe to tap once on a bad network); the home screen is cached
// with its ETag so an unchanged screen costs a 304 and no body.
import type { Client } from './client.js';
import type { Location } from './location.js';
import { readJson, writeJson } from './storage.js';
import type { QueryOf, Schema } from './types.js';
import type { Queued } from './writes.js';

export const TODAY_KEY = 'zhuqi.today';

interface TodayCache {
  etag: string;
  body: Schema<'MeToday'>;
}

/**
 * The generated types make fields with a spec `default` required (right for answers, where the
 * server always fills them in). In request bodies they may be left out; these input types say so.
 */
type Optional<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;
export type ProblemInput = Optional<Schema<'NewProblemInput'>, 'urgency' | 'departments_requested'>;
export type ProductionInput = Optional<Schema<'Production'>, 'staff_shortage'>;
export type ReportInput = Omit<Schema<'ReportInput'>, 'production' | 'problems'> & {
  production: ProductionInput;
  problems?: ProblemInput[];
};

export interface SignInExtra {
  /** Why you sign in outside the geofence (外勤); required only there. */
  remark?: string;
  /** A stable id of the phone; a new one is flagged, never refused. */
  device_id?: string;
}

export interface Officer {
  /** GET /me/today, revalidated with the stored ETag (a 304 answers from the cache). */
  today(): Promise<Schema<'MeToday'>>;
  /** GET /daily-reports/{enterprise_id}/{day}/draft. */
  draft(enterpriseId: string, day: string): Promise<Schema<'DailyReportDraft'>>;
  /** GET /me/notifications (newest first; `next_cursor` pages on). */
  notifications(query?: QueryOf<'/api/v1/me/notifications', 'GET'>): Promise<Schema<'NotificationList'>>;
  /** POST /sign-ins with the location (GCJ-02), as a safe write. */
  signIn(enterpriseId: string, location: Location, extra?: SignInExtra): Promise<Schema<'SignInDto'> | Queued>;
  /** PUT /daily-reports/{enterprise_id}/{day}, as a safe write; `report.problems` files new problems. */
  fileReport(enterpriseId: string, day: string, report: ReportInput): Promise<Schema<'DailyReportDto'> | Queued>;
  /** POST /problems, as a safe write. */
  fileProblem(enterpriseId: string, problem: ProblemInput): Promise<Schema<'ProblemDetail'> | Queued>;
}

export function officer(client: Client): Officer {
  return {
    async today() {
      const cached = await readJson<TodayCache>(client.storage, TODAY_KEY);
      const res = await client.request('GET', '/api/v1/me/today', {
        headers: cached ? { 'If-None-Match': cached.etag } : {},
      });
      if (res.status === 304 && cached) return cached.body;
      const body = res.data as Schema<'MeToday'>;
      const etag = res.headers['etag'];
      if (etag) await writeJson(client.storage, TODAY_KEY, { etag, body } satisfies TodayCache);
      return body;
    },

    draft(enterpriseId, day) {
      return client.get('/api/v1/daily-reports/{enterprise_id}/{day}/draft', {
        params: { enterprise_id: enterpriseId, day },
      });
    },

    notifications(query) {
      return client.get('/api/v1/me/notifications', query ? { query } : {});
    },

    signIn(enterpriseId, location, extra = {}) {
      return client.write('POST', '/api/v1/sign-ins', {
        enterprise_id: enterpriseId,
        lat: location.lat,
        lng: location.lng,
        coord: 'gcj02' as const,
        accuracy_m: location.accuracy,
        ...extra,
      });
    },

    fileReport(enterpriseId, day, report) {
      // Omitted defaulted fields are valid on the wire (see ReportInput above).
      return client.write('PUT', '/api/v1/daily-reports/{enterprise_id}/{day}', report as Schema<'ReportInput'>, {
        params: { enterprise_id: enterpriseId, day },
      });
    },

    fileProblem(enterpriseId, problem) {
      const body = { enterprise_id: enterpriseId, ...problem } as Schema<'CreateProblemRequest'>;
      return client.write('POST', '/api/v1/problems', body);
    },
  };
}
