CREATE TABLE `lr_range_tests` (
	`id` text PRIMARY KEY NOT NULL,
	`cache_key` text NOT NULL,
	`request` text NOT NULL,
	`result` text NOT NULL,
	`backend` text NOT NULL,
	`suggested_lr` real,
	`confidence` text NOT NULL,
	`duration_ms` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `lr_range_tests_cache_key_unique` ON `lr_range_tests` (`cache_key`);