/** Type-level helpers. A leaf module: types only. */

/**
 * `T` with the fields named in `R` typed as `R` says: each one of T's fields, each type
 * assignable to T's (so a value of the result is still a T). For an answer whose schema
 * documents a field more loosely than the code that builds it knows it.
 */
export type Narrow<T, R extends { [K in keyof R]: K extends keyof T ? T[K] : never }> = Omit<
  T,
  keyof R
> &
  R;
