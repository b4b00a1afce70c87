// Waiting helpers shared by both halves of the fault suite: the harness's own (test/helpers/processes.ts).
export { sleep, waitFor } from "../../helpers/processes.js";
