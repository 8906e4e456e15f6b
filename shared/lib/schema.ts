// zod's small build (functions instead of methods: a settings schema costs a third of the
// start-up time it did with the full build), with the full build's English messages
import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
