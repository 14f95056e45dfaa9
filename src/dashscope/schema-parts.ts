import { z } from "zod";

/** A number, or a string of digits: DashScope documents several numeric fields as strings. */
export const numberish = z.union([
  z.number().nonnegative(),
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, "expected a number")
    .transform(Number),
]);

export const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}, "expected an http(s) URL");
