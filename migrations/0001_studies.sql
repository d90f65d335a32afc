CREATE TABLE `studies` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`direction` text NOT NULL,
	`metric` text NOT NULL,
	`config` text NOT NULL,
	`state` text NOT NULL,
	`n_trials` integer NOT NULL,
	`best_trial_number` integer,
	`best_value` real,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `trial_intermediate_values` (
	`study_id` text NOT NULL,
	`number` integer NOT NULL,
	`step` integer NOT NULL,
	`value` real NOT NULL,
	PRIMARY KEY(`study_id`, `number`, `step`)
);
--> statement-breakpoint
CREATE TABLE `trial_params` (
	`study_id` text NOT NULL,
	`number` integer NOT NULL,
	`name` text NOT NULL,
	`value` text NOT NULL,
	PRIMARY KEY(`study_id`, `number`, `name`)
);
--> statement-breakpoint
CREATE TABLE `trials` (
	`study_id` text NOT NULL,
	`number` integer NOT NULL,
	`state` text NOT NULL,
	`value` real,
	`error` text,
	`started_at` integer,
	`completed_at` integer,
	PRIMARY KEY(`study_id`, `number`),
	FOREIGN KEY (`study_id`) REFERENCES `studies`(`id`) ON UPDATE no action ON DELETE no action
);
