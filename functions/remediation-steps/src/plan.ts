import * as z from 'zod';

/** The actions a plan can list, in the order the playbook runs them. */
export const ACTIONS = [
  'quarantine',
  'deactivateCertificate',
  'revokeCertificate',
  'rotateCertificate',
  'fixPolicy',
  'notify',
  'openTicket',
] as const;
export type Action = (typeof ACTIONS)[number];

/** Why a finding was refused: see {@link PlanSchema} `refusal`. */
export const REFUSALS = ['foreign-resource', 'unverified-finding'] as const;
export type RefusalCode = (typeof REFUSALS)[number];

/** AWS IoT resource name patterns (API constraints), checked before any identifier reaches an API call or ARN. */
export const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
export const CERTIFICATE_ID = /^[0-9a-f]{64}$/;
export const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
export const SECURITY_HUB_PRODUCT_ARN =
  /^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:\d{0,12}:product\/[\w.-]+\/[\w.-]+$/;

export const PlanSchema = z.object({
  findingId: z.string().min(1).max(512),
  productArn: z.string().regex(SECURITY_HUB_PRODUCT_ARN),
  check: z.string().min(1).max(256),
  title: z.string().max(256).optional(),
  severity: z.string().max(32).optional(),
  region: z.string().max(32).optional(),
  accountId: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  thingName: z.string().regex(THING_NAME).optional(),
  certificateId: z.string().regex(CERTIFICATE_ID).optional(),
  caCertificateId: z.string().regex(CERTIFICATE_ID).optional(),
  policyName: z.string().regex(POLICY_NAME).optional(),
  policyVersionId: z
    .string()
    .regex(/^\d{1,10}$/)
    .optional(),
  actions: z.array(z.enum(ACTIONS)).max(ACTIONS.length),
  /**
   * Set when the finding was refused (a resource not provably this stack's, or a claimed own-detector finding whose
   * provenance record does not match): the plan then names no target and its only action is notify.
   */
  refusal: z.object({ code: z.enum(REFUSALS), reason: z.string().max(512) }).optional(),
});
/** What classify makes of a finding: `{ findingId, productArn, check, thingName?, certificateId?, policyName?, actions }`. */
export type Plan = z.infer<typeof PlanSchema>;

export const StepResultSchema = z.object({
  action: z.enum(ACTIONS),
  outcome: z.enum(['changed', 'unchanged', 'declined']),
  detail: z.string().max(512),
  data: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
});
/**
 * One step's result. `changed`: the step changed something; `unchanged`: the end state already held (a retry or
 * an earlier run); `declined`: the step deliberately made no automatic change (e.g. fixPolicy for an unknown role).
 */
export type StepResult = z.infer<typeof StepResultSchema>;

export const StepFailureSchema = z.object({ Error: z.string().max(256), Cause: z.string().optional() });

/** The state the state machine carries between tasks. */
export const RemediationStateSchema = z.object({
  plan: PlanSchema,
  remaining: z.array(z.enum(ACTIONS)),
  results: z.array(StepResultSchema),
  /** The state machine's next task: `remaining[0]`, or `closeFinding` when nothing remains. */
  next: z.enum([...ACTIONS, 'closeFinding']).optional(),
  skipped: z.boolean().optional(),
  skipReason: z.string().optional(),
  error: StepFailureSchema.optional(),
});
export type RemediationState = z.infer<typeof RemediationStateSchema>;
