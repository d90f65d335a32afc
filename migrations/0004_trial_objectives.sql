ALTER TABLE `trials` ADD `values` text;--> statement-breakpoint
ALTER TABLE `trials` ADD `constraints` text;--> statement-breakpoint
ALTER TABLE `trials` ADD `sampler` text;