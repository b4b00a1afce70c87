// How hard rclone retries, per backend. rclone's S3 backend hands its low-level retry count to the AWS SDK,
// whose backoff grows exponentially: with rclone's default of 10, one request to an S3 endpoint that went away
// takes ~150 s to fail (5 retries: ~6 s), and a sync makes many. A cycle then holds the lock for many minutes
// before it can say "the remote could not be reached". Five attempts still ride out a throttling burst (503
// SlowDown); the product's next cycle is the real retry. A value the user set (RCLONE_LOW_LEVEL_RETRIES) wins.
export const S3_LOW_LEVEL_RETRIES = "5";

export function rcloneEnvFor(backendType: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (backendType !== "s3" || env.RCLONE_LOW_LEVEL_RETRIES) return env;
  return { ...env, RCLONE_LOW_LEVEL_RETRIES: S3_LOW_LEVEL_RETRIES };
}
