CREATE TABLE `notes` (
	`project_id` text NOT NULL,
	`study_id` text NOT NULL,
	`trial` integer NOT NULL,
	`body` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`study_id`, `trial`)
);
