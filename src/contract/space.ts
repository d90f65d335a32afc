/** Search spaces and parameter values, as studies store them and the API shows them (the vocabulary tuning/ works in). */

export type ParamValue = number | string | boolean;
export type Params = Record<string, ParamValue>;

/** `when`: the parameter exists only where the named categorical parameter has (one of) these value(s). */
export type Condition = Record<string, ParamValue | ParamValue[]>;

export interface FloatParam {
  type: 'float';
  low: number;
  high: number;
  log?: boolean;
  step?: number;
  when?: Condition;
}

export interface IntParam {
  type: 'int';
  low: number;
  high: number;
  log?: boolean;
  step?: number;
  when?: Condition;
}

export interface CategoricalParam {
  type: 'categorical';
  choices: ParamValue[];
  when?: Condition;
}

export type ParamSpec = FloatParam | IntParam | CategoricalParam;

/** Parameter name -> its distribution. */
export type Space = Record<string, ParamSpec>;

export type { Direction, TrialState } from './names';
