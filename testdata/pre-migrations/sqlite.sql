-- An SQLite database created by GORM AutoMigrate before migrations were versioned, holding
-- testdata/reference-example.json as the ingest command stored it (sqlite3 .dump).
CREATE TABLE `customers` (`source_customer_id` text,`source_parent_customer_id` text,`organization_id` text NOT NULL,`postal_code` text NOT NULL,`country` text NOT NULL,`customer_creation_date` datetime NOT NULL,`enrollment_start_date` datetime NOT NULL,`enrollment_end_date` datetime,`enrollment_opt_in_status` text NOT NULL,`alert_opt_in_status` text NOT NULL,`targeting_indicator` text NOT NULL,`redemption_eligibility` text,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL,PRIMARY KEY (`source_customer_id`));
INSERT INTO customers VALUES('afa2r21-25f9-4501-b9db-e78afa73c0e3','2e052a88-6ae1-4501-b9db-e78afa73c0e3','50004','78753','US','2017-01-01 08:00:00+00:00','2023-01-01 08:00:00+00:00','2023-01-01 08:00:00+00:00','ACTIVE','["ALL"]','TARGET',NULL,'2026-12-01 08:59:53.069653+00:00','2026-12-01 08:59:53.069653+00:00');
CREATE TABLE `accounts` (`source_account_id` text,`source_customer_ids` text NOT NULL,`primary_source_customer_id` text NOT NULL,`status` text NOT NULL,`type` text NOT NULL,`source_portfolio_id` text NOT NULL,`account_open_date` datetime NOT NULL,`account_close_date` datetime,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL,PRIMARY KEY (`source_account_id`));
INSERT INTO accounts VALUES('42c57311-25f9-4501-b9db-e78afa73c0e3','["afa2r21-25f9-4501-b9db-e78afa73c0e3","2e052a88-6ae1-4b78-8d96-f3a037402567"]','afa2r21-25f9-4501-b9db-e78afa73c0e3','OPEN','DDA','76afcd28-b494-4b29-b7f2-3eb614a92f97','2018-05-12 20:30:00+00:00',NULL,'2026-12-01 08:59:53.069653+00:00','2026-12-01 08:59:53.069653+00:00');
CREATE TABLE `account_holders` (`source_account_id` text,`source_customer_id` text,`position` integer NOT NULL,PRIMARY KEY (`source_account_id`,`source_customer_id`));
INSERT INTO account_holders VALUES('42c57311-25f9-4501-b9db-e78afa73c0e3','afa2r21-25f9-4501-b9db-e78afa73c0e3',0);
INSERT INTO account_holders VALUES('42c57311-25f9-4501-b9db-e78afa73c0e3','2e052a88-6ae1-4b78-8d96-f3a037402567',1);
CREATE TABLE `cards` (`source_account_id` text,`source_customer_id` text,`last4` text,`iin` text NOT NULL,`card_type` text NOT NULL,`status` text NOT NULL,`network_identifier` integer NOT NULL,`open_date` datetime NOT NULL,`close_date` datetime,`created_at` datetime NOT NULL,`updated_at` datetime NOT NULL,PRIMARY KEY (`source_account_id`,`source_customer_id`,`last4`));
INSERT INTO cards VALUES('42c57311-25f9-4501-b9db-e78afa73c0e3','afa2r21-25f9-4501-b9db-e78afa73c0e3','2345','123456','CREDIT','OPEN',3,'2023-01-01 08:00:00+00:00',NULL,'2026-12-01 08:59:53.069653+00:00','2026-12-01 08:59:53.069653+00:00');
CREATE INDEX `idx_customers_parent` ON `customers`(`source_parent_customer_id`);
CREATE INDEX `idx_customers_updated` ON `customers`(`updated_at`,`source_customer_id`);
CREATE INDEX `idx_customers_enrollment` ON `customers`(`enrollment_start_date`,`source_customer_id`);
CREATE INDEX `idx_customers_creation` ON `customers`(`customer_creation_date`,`source_customer_id`);
CREATE INDEX `idx_customers_org` ON `customers`(`organization_id`,`source_customer_id`);
CREATE INDEX `idx_account_holders_customer` ON `account_holders`(`source_customer_id`,`source_account_id`);
CREATE INDEX `idx_cards_last4_iin` ON `cards`(`last4`,`iin`);
CREATE INDEX `idx_cards_customer` ON `cards`(`source_customer_id`);
