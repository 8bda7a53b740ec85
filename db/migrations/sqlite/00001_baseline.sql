-- The schema as GORM AutoMigrate created it from the models before migrations were versioned
-- (dumped with sqlite3 .schema; statements as AutoMigrate wrote them). Databases created that
-- way are recorded at this version without running it (db/migrate.go).

-- +goose Up
CREATE TABLE `customers` (`source_customer_id` text,`source_parent_customer_id` text,`organization_id` text NOT NULL,`postal_code` text NOT NULL,`country` text NOT NULL,`customer_creation_date` datetime NOT NULL,`enrollment_start_date` datetime NOT NULL,`enrollment_end_date` datetime,`enrollment_opt_in_status` text NOT NULL,`alert_opt_in_status` text NOT NULL,`targeting_indicator` text NOT NULL,`redemption_eligibility` text,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL,PRIMARY KEY (`source_customer_id`));
CREATE INDEX `idx_customers_parent` ON `customers`(`source_parent_customer_id`);
CREATE INDEX `idx_customers_updated` ON `customers`(`updated_at`,`source_customer_id`);
CREATE INDEX `idx_customers_enrollment` ON `customers`(`enrollment_start_date`,`source_customer_id`);
CREATE INDEX `idx_customers_creation` ON `customers`(`customer_creation_date`,`source_customer_id`);
CREATE INDEX `idx_customers_org` ON `customers`(`organization_id`,`source_customer_id`);
CREATE TABLE `accounts` (`source_account_id` text,`source_customer_ids` text NOT NULL,`primary_source_customer_id` text NOT NULL,`status` text NOT NULL,`type` text NOT NULL,`source_portfolio_id` text NOT NULL,`account_open_date` datetime NOT NULL,`account_close_date` datetime,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL,PRIMARY KEY (`source_account_id`));
CREATE TABLE `account_holders` (`source_account_id` text,`source_customer_id` text,`position` integer NOT NULL,PRIMARY KEY (`source_account_id`,`source_customer_id`));
CREATE INDEX `idx_account_holders_customer` ON `account_holders`(`source_customer_id`,`source_account_id`);
CREATE TABLE `cards` (`source_account_id` text,`source_customer_id` text,`last4` text,`iin` text NOT NULL,`card_type` text NOT NULL,`status` text NOT NULL,`network_identifier` integer NOT NULL,`open_date` datetime NOT NULL,`close_date` datetime,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL,PRIMARY KEY (`source_account_id`,`source_customer_id`,`last4`));
CREATE INDEX `idx_cards_last4_iin` ON `cards`(`last4`,`iin`);
CREATE INDEX `idx_cards_customer` ON `cards`(`source_customer_id`);

-- +goose Down
DROP TABLE `cards`;
DROP TABLE `account_holders`;
DROP TABLE `accounts`;
DROP TABLE `customers`;
