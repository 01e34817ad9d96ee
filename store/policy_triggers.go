package store

// policyTriggers queue a policy_outbox row for every change to a table a
// decision reads (migration 10), once this database has been a hub
// (EnablePolicyOutbox): a single appliance, and a remote reader applying
// the hub's records, queue nothing. Like the migrations, never edit it once
// shipped: add a migration that drops and recreates what must change.
const policyTriggers = `
	CREATE TRIGGER policy_users_insert AFTER INSERT ON users WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('user', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_users_update AFTER UPDATE OF first_name, last_name, email, enabled, valid_from, valid_until, lockdown_exempt, allowed_offline ON users WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('user', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_users_delete AFTER DELETE ON users WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('user', CAST(OLD.id AS TEXT));
	END;
	CREATE TRIGGER policy_credentials_insert AFTER INSERT ON credentials WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('credential', hex(NEW.id));
	END;
	CREATE TRIGGER policy_credentials_update AFTER UPDATE OF user_id, kind, status, tap_key, uv_key, device_info, issuer_site_id, issuer_site_name, issuer_site_url, issuer_site_key, created_at, registered_at, revoked_at ON credentials WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('credential', hex(NEW.id));
	END;
	CREATE TRIGGER policy_credentials_delete AFTER DELETE ON credentials WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('credential', hex(OLD.id));
	END;
	CREATE TRIGGER policy_groups_insert AFTER INSERT ON groups WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('group', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_groups_update AFTER UPDATE ON groups WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('group', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_groups_delete AFTER DELETE ON groups WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('group', CAST(OLD.id AS TEXT));
	END;
	CREATE TRIGGER policy_group_members_insert AFTER INSERT ON group_members WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('member', NEW.group_id || ':' || NEW.user_id);
	END;
	CREATE TRIGGER policy_group_members_update AFTER UPDATE ON group_members WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('member', NEW.group_id || ':' || NEW.user_id);
	END;
	CREATE TRIGGER policy_group_members_delete AFTER DELETE ON group_members WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('member', OLD.group_id || ':' || OLD.user_id);
	END;
	CREATE TRIGGER policy_permissions_insert AFTER INSERT ON permissions WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('permission', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_permissions_update AFTER UPDATE ON permissions WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('permission', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_permissions_delete AFTER DELETE ON permissions WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('permission', CAST(OLD.id AS TEXT));
	END;
	CREATE TRIGGER policy_time_profiles_insert AFTER INSERT ON time_profiles WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('time_profile', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_time_profiles_update AFTER UPDATE ON time_profiles WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('time_profile', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_time_profiles_delete AFTER DELETE ON time_profiles WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('time_profile', CAST(OLD.id AS TEXT));
	END;
	CREATE TRIGGER policy_access_points_insert AFTER INSERT ON access_points WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('access_point', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_access_points_update AFTER UPDATE ON access_points WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('access_point', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_access_points_delete AFTER DELETE ON access_points WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('access_point', CAST(OLD.id AS TEXT));
	END;
	CREATE TRIGGER policy_settings_insert AFTER INSERT ON settings WHEN NEW.key IN ('time_zone', 'offline_lease_days') AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('setting', NEW.key);
	END;
	CREATE TRIGGER policy_settings_update AFTER UPDATE ON settings WHEN NEW.key IN ('time_zone', 'offline_lease_days') AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('setting', NEW.key);
	END;
	CREATE TRIGGER policy_settings_delete AFTER DELETE ON settings WHEN OLD.key IN ('time_zone', 'offline_lease_days') AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('setting', OLD.key);
	END;
	CREATE TRIGGER policy_site_insert AFTER INSERT ON site WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('site', '1');
	END;
	CREATE TRIGGER policy_site_update AFTER UPDATE ON site WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('site', '1');
	END;
	CREATE TRIGGER policy_site_delete AFTER DELETE ON site WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('site', '1');
	END;
	CREATE TRIGGER policy_emergencies_insert AFTER INSERT ON emergencies WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('emergency', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_emergencies_update AFTER UPDATE ON emergencies WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('emergency', CAST(NEW.id AS TEXT));
	END;
	CREATE TRIGGER policy_emergencies_delete AFTER DELETE ON emergencies WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('emergency', CAST(OLD.id AS TEXT));
	END;`
