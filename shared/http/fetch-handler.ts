/** What an adapter knows about a request beyond the Request itself. */
export interface RequestInfo {
  /**
   * The peer's address as the adapter saw it: the socket's peer on the Node server, the address
   * the Functions front end appended to X-Forwarded-For. Used to throttle failed logins per address.
   */
  clientAddress: string | undefined;
  /**
   * Offered by an adapter that writes the response body itself (the Node server): `sent` is called
   * once the body has been written or abandoned, with the body bytes written. Request observation
   * then needs no counting stream around the body (and a storage download keeps its direct pipe).
   */
  onSent?: (sent: (bytesOut: number) => void) => void;
  /**
   * Offered by an adapter that counts the request body's bytes as it receives them (the Node
   * server): request observation then needs no counting stream, and no second Request, around it.
   */
  bytesIn?: () => number;
}

/** The fetch-style entry every adapter (Node server, Azure Functions) calls. */
export type FetchHandler = (request: Request, info: RequestInfo) => Promise<Response>;

/** Observes each request once answered (logging, metrics); never sees bodies or secrets. */
export type RequestObserver = (request: Request, response: Response, error: unknown) => void;
