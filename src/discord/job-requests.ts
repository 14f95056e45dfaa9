import {
  ComponentType,
  MessageFlags,
  PermissionFlagsBits,
  type ButtonInteraction,
  type RepliableInteraction,
} from "discord.js";
import { DashScopeError } from "../dashscope/errors.js";
import { UserError } from "../errors.js";
import type { Job, JobKind, JobStore } from "../jobs/job-store.js";
import type { JobRunner } from "../jobs/runner.js";
import type { Logger } from "../log.js";
import type { Metering } from "../usage/metering.js";
import type { CustomId } from "./custom-id.js";
import { ledgerGuildIdOf } from "./install-context.js";
import { jobButton, type JobReply } from "./job-reply.js";
import { discordLimits } from "./limits.js";
import { describeFailure } from "./failure-text.js";
import { newReference, type HandlerContext } from "./router.js";

/** An interaction token lasts 15 minutes from the interaction's creation. */
const INTERACTION_TOKEN_MS = 15 * 60_000;

export type JobRequestServices = {
  jobs: JobStore;
  runner: JobRunner;
  metering: Metering;
  admissions: Set<string>;
  acknowledgements: AcknowledgementGate;
};

/**
 * Holds back the database work of acknowledged requests while other acknowledgements are still
 * being sent. In a crowd (200 `/song` at once) the main thread otherwise runs quota checks and job
 * inserts of the first requests between the sends of the later ones' acknowledgements (on SQLite,
 * synchronously), and those arrive late. Never longer than `maxWaitMs`, so a steady stream of
 * interactions can't starve the work.
 */
export type AcknowledgementGate = {
  /** Sends an acknowledgement, counted as in flight until it is answered. */
  send<T>(acknowledgement: Promise<T>): Promise<T>;
  /** Resolves when no acknowledgement is in flight (or after `maxWaitMs`). */
  idle(): Promise<void>;
};

export function createAcknowledgementGate(options: { maxWaitMs: number } = { maxWaitMs: 2_000 }): AcknowledgementGate {
  let inFlight = 0;
  let waiters: Array<() => void> = [];
  const release = () => {
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };
  return {
    async send(acknowledgement) {
      inFlight += 1;
      try {
        return await acknowledgement;
      } finally {
        inFlight -= 1;
        if (inFlight === 0) release();
      }
    },
    idle() {
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.maxWaitMs);
        timer.unref?.();
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/**
 * Accepts a request as a durable job, which owns the reply from then on. The acknowledgement comes
 * first, before any database work, so that a crowd is answered within Discord's window: then one
 * unfinished job of a kind per user (in this process for the moments before the row exists, and in
 * the database), `prepare` (e.g. keeping the conversation), the quota hold (`reserve`), the row.
 * A refusal after a public acknowledgement removes the placeholder and goes privately (the
 * router's error boundary); a refusal known in this process goes privately at once. The hold is
 * given back if the job can't be written.
 */
export async function newJobFor(
  interaction: RepliableInteraction,
  request: { kind: JobKind; input: unknown; ephemeral: boolean; reserve: () => Promise<string | null>; prepare?: () => Promise<void> },
  services: JobRequestServices,
  context: HandlerContext,
): Promise<Job> {
  const admission = `${request.kind}:${interaction.user.id}`;
  if (services.admissions.has(admission)) throw new UserError("busy");
  services.admissions.add(admission);
  try {
    // With the response: the reply's message id, to remove a public placeholder once the token is gone.
    const acknowledged = await services.acknowledgements.send(
      interaction.deferReply(request.ephemeral ? { flags: MessageFlags.Ephemeral, withResponse: true } : { withResponse: true }),
    );
    await services.acknowledgements.idle();
    if (await services.jobs.unfinishedJobOf(interaction.user.id, request.kind)) throw new UserError("busy");
    await request.prepare?.();
    const reservationId = await request.reserve();
    try {
      const job = await services.jobs.insert(
        {
          kind: request.kind,
          // A user install in a server without the bot is booked and delivered as outside any server.
          guildId: ledgerGuildIdOf(interaction),
          channelId: interaction.channelId,
          userId: interaction.user.id,
          userName: interaction.user.displayName,
          locale: interaction.locale,
          guildLocale: interaction.guildLocale,
          applicationId: interaction.applicationId,
          interactionId: interaction.id,
          interactionToken: interaction.token,
          tokenExpiresAt: new Date(interaction.createdTimestamp + INTERACTION_TOKEN_MS),
          ephemeral: request.ephemeral,
          replyMessageId: acknowledged.interaction.responseMessageId,
          attachmentLimitBytes: interaction.attachmentSizeLimit ?? discordLimits.defaultAttachmentBytes,
          input: request.input,
          reservationId,
        },
        services.runner.owner,
      );
      services.runner.accepted(job);
      context.log.debug({ jobId: job.id, kind: job.kind }, "job accepted");
      return job;
    } catch (error) {
      if (reservationId) await services.metering.release(reservationId);
      throw error;
    }
  } finally {
    services.admissions.delete(admission);
  }
}

/**
 * The last word of a job that produced nothing to show: always private, and never a placeholder
 * left behind. While the token lives, a public placeholder is removed and the text goes in a private
 * follow-up; after that, a direct message (and, for a public request whose requester takes no
 * direct messages, the channel, which then holds nothing private).
 */
export async function tellJobEnded(reply: JobReply, job: Job, message: { text: string; retry: boolean }, log: Logger): Promise<void> {
  const components = message.retry
    ? [{ type: ComponentType.ActionRow as const, components: [jobButton("retry", job.id, reply.t("job.button.retry"), "🔁")] }]
    : [];
  try {
    if (reply.tokenValid()) {
      if (job.ephemeral) {
        await reply.edit({ content: message.text, embeds: [], components });
        return;
      }
      await reply.remove().catch((error: unknown) => log.warn({ err: error }, "could not remove the placeholder reply"));
      await reply.followUp({ content: message.text, components, flags: MessageFlags.Ephemeral });
      return;
    }
  } catch (error) {
    log.warn({ err: error }, "could not end the job in its reply; trying a direct message");
  }
  try {
    await reply.toRequester({ content: message.text, components });
  } catch (error) {
    if (job.ephemeral) {
      log.error({ err: error }, "could not tell the requester how their private job ended");
      return;
    }
    await reply.toChannel({ content: message.text }).catch((channelError: unknown) => log.error({ err: channelError }, "could not tell the requester how their job ended"));
  }
  await reply.removeExpiredPlaceholder(log);
}

/** How a job ended without a result: refused or failed, or interrupted with an unknown outcome. */
export type JobEnding = { kind: "failed"; error: unknown } | { kind: "interrupted"; reason: "restart" | "shutdown" | "outcome-unknown"; error?: unknown };

/**
 * Tells the requester, privately and in their language, why their job produced nothing; an
 * interrupted job (its call may have been charged) says so and offers Try again. A failure is
 * logged with the reference the user is given.
 */
export async function endJobWithoutResult(reply: JobReply, job: Job, ending: JobEnding, log: Logger): Promise<void> {
  if (ending.kind === "interrupted" && ending.error === undefined) {
    log.warn({ reason: ending.reason }, "job interrupted");
    await tellJobEnded(reply, job, { text: reply.t("job.interrupted.restart"), retry: true }, log);
    return;
  }
  // A call whose outcome is unknown says how it broke off; either way the user may try again.
  const reference = newReference();
  const failure = describeFailure(ending.error, reply.t, reference);
  const dashscope = ending.error instanceof DashScopeError ? { code: ending.error.code, status: ending.error.status, requestId: ending.error.requestId } : undefined;
  log[failure.level]({ err: ending.error, reference, dashscope }, ending.kind === "failed" ? "job failed" : "job interrupted");
  await tellJobEnded(reply, job, { text: failure.text, retry: ending.kind === "interrupted" }, log);
}

/** Asks again for what an interrupted or failed job asked for, as a new request. */
export type RetryJob = (interaction: ButtonInteraction, job: Job, context: HandlerContext) => Promise<void>;

/**
 * Cancel (a queued job: its hold is given back and nothing is charged) and Try again (an
 * interrupted job). Only the requester, or someone who can manage the server, may press them.
 */
export async function handleJobAction(
  interaction: ButtonInteraction,
  id: Extract<CustomId, { kind: "job-action" }>,
  services: JobRequestServices & { retry: Record<JobKind, RetryJob> },
  context: HandlerContext,
): Promise<void> {
  const job = await services.jobs.get(id.jobId);
  if (!job) throw new UserError("job.gone");
  const isAdmin = interaction.memberPermissions?.any([PermissionFlagsBits.Administrator, PermissionFlagsBits.ManageGuild]) ?? false;
  if (job.userId !== interaction.user.id && !isAdmin) throw new UserError("job.notYours");

  if (id.action === "retry") {
    if (job.state !== "interrupted" && job.state !== "failed") throw new UserError("job.notRetryable");
    await services.retry[job.kind](interaction, job, context);
    return;
  }
  const cancelled = await services.jobs.cancelQueued(job.id);
  if (!cancelled) throw new UserError(job.state === "running" || job.state === "billed" ? "job.cancel.running" : "job.cancel.finished");
  if (cancelled.reservationId) await services.metering.release(cancelled.reservationId);
  await services.runner.forget(cancelled.id);
  context.log.info({ jobId: cancelled.id, by: interaction.user.id }, "queued job cancelled");
  await interaction.update({ content: context.t("job.cancelled"), embeds: [], components: [], allowedMentions: { parse: [] } });
  context.markReplyFinal();
}
