/** The configuration, read and validated once per cold start (shared/config/env.ts says what each variable is). */
import { parseEnv } from '../config/env.ts';

export const env = parseEnv();
