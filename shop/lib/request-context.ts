import { AsyncLocalStorage } from 'node:async_hooks';

/** The request being served, so outbound calls can carry its id without threading it through every function. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();
