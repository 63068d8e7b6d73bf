// Fields the global guard hook (http/request-guards.ts) puts on every request; route groups of
// every feature read them, so their declaration lives here rather than in http/.
declare module 'fastify' {
  interface FastifyRequest {
    /** effective client IP after the trusted-proxy rules */
    clientIp: string;
    /** route label for metrics, set by the handler that serves the request */
    metricsRoute: string;
    /** long-lived streams (SSE) call this once they start, leaving the in-flight limit */
    leaveInFlight: () => void;
  }
}

export {};
