import { connectAzureStorage } from "../../shared/storage/azure/azure-storage.js";
import { useAzurite } from "../helpers/azurite.js";
import { isolatedConfig } from "../helpers/registry.js";
import { storageContract } from "./contract.js";

const azurite = useAzurite();

storageContract("Azure Blob, Table and Queue storage (on Azurite)", async () => {
  const { container, tablePrefix } = isolatedConfig(azurite().connectionString);
  const storage = connectAzureStorage({ connectionString: azurite().connectionString, container, tablePrefix });
  await storage.ensureCreated();
  return storage;
});
