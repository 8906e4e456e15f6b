/** Table keys cannot hold "/": the relay control's tag rows sit under this partition key. */
export const relayPartitionKey = (repository: string): string => repository.replaceAll("/", "|");
