BEGIN TRANSACTION;
CREATE TABLE articles (
	id INTEGER NOT NULL, 
	source VARCHAR(200) NOT NULL, 
	"key" VARCHAR(500) NOT NULL, 
	language VARCHAR(35) NOT NULL, 
	title TEXT NOT NULL, 
	summary TEXT NOT NULL, 
	body_html TEXT NOT NULL, 
	author TEXT NOT NULL, 
	tags TEXT NOT NULL, 
	image TEXT NOT NULL, 
	url TEXT NOT NULL, 
	origin TEXT NOT NULL, 
	published DATETIME NOT NULL, 
	first_seen DATETIME NOT NULL, 
	updated DATETIME NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	canonical_url TEXT DEFAULT '' NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_article_source_key UNIQUE (source, "key")
);
INSERT INTO "articles" VALUES(1,'newsroom','bridge','en','Title bridge','S','<p>Body bridge.</p>','A','["city", "ünïcode"]','','https://news.example.org/bridge','articles/bridge.md','2026-03-01 11:00:00.000000','2026-03-01 12:00:00.000000','2026-03-01 12:00:00.000000','hash-bridge','https://news.example.org/bridge');
INSERT INTO "articles" VALUES(2,'newsroom','garden','en','Title garden','S','<p>Body garden.</p>','A','["city", "ünïcode"]','','','articles/garden.md','2026-03-01 11:00:00.000000','2026-03-01 12:00:00.000000','2026-03-01 12:00:00.000000','hash-garden','');
INSERT INTO "articles" VALUES(3,'newsroom','budget','en','Title budget','S','<p>Body budget.</p>','A','["city", "ünïcode"]','','','articles/budget.md','2026-03-01 11:00:00.000000','2026-03-01 12:00:00.000000','2026-03-01 12:00:00.000000','hash-budget','');
INSERT INTO "articles" VALUES(4,'newsroom','marche','fr','Title marche','S','<p>Body marche.</p>','A','["city", "ünïcode"]','','https://news.example.org/marche','articles/marche.md','2026-03-01 11:00:00.000000','2026-03-01 12:00:00.000000','2026-03-01 12:00:00.000000','hash-marche','https://news.example.org/marche');
CREATE TABLE backlog_samples (
	time DATETIME NOT NULL, 
	language VARCHAR(35) NOT NULL, 
	pending INTEGER NOT NULL, 
	PRIMARY KEY (time, language)
);
INSERT INTO "backlog_samples" VALUES('2026-03-01 12:05:00.000000','fr',1);
CREATE TABLE corrections (
	article_id INTEGER NOT NULL, 
	language VARCHAR(35) NOT NULL, 
	path TEXT NOT NULL, 
	file_hash VARCHAR(64) NOT NULL, 
	source_hash VARCHAR(64) NOT NULL, 
	applied DATETIME NOT NULL, 
	PRIMARY KEY (article_id, language)
);
INSERT INTO "corrections" VALUES(2,'fr','corrections/fr/newsroom/garden.md','filehash','hash-garden','2026-03-01 12:05:00.000000');
CREATE TABLE feed_entries (
	language VARCHAR(35) NOT NULL, 
	article_id INTEGER NOT NULL, 
	page INTEGER, 
	PRIMARY KEY (language, article_id)
);
INSERT INTO "feed_entries" VALUES('fr',1,NULL);
INSERT INTO "feed_entries" VALUES('fr',2,1);
CREATE TABLE memory (
	pair VARCHAR(80) NOT NULL, 
	model VARCHAR(200) NOT NULL, 
	source_hash VARCHAR(64) NOT NULL, 
	source TEXT NOT NULL, 
	target TEXT NOT NULL, 
	created DATETIME NOT NULL, 
	PRIMARY KEY (pair, model, source_hash)
);
INSERT INTO "memory" VALUES('en-fr','argos:en-fr:1.0:x','h1','Hello.','Bonjour.','2026-03-01 12:05:00.000000');
INSERT INTO "memory" VALUES('en-fr','argos:en-fr:1.0:x','h2','Bye.','Au revoir.','2026-03-01 12:05:00.000000');
CREATE TABLE memory_stats (
	pair VARCHAR(80) NOT NULL, 
	hits INTEGER NOT NULL, 
	misses INTEGER NOT NULL, 
	PRIMARY KEY (pair)
);
INSERT INTO "memory_stats" VALUES('en-fr',3,2);
CREATE TABLE publish_marks (
	language VARCHAR(35) NOT NULL, 
	since DATETIME NOT NULL, 
	signature VARCHAR(64) NOT NULL, 
	current VARCHAR(64) NOT NULL, 
	PRIMARY KEY (language)
);
INSERT INTO "publish_marks" VALUES('fr','2026-03-01 12:05:00.000000','sig','cur');
CREATE TABLE pulls (
	day VARCHAR(10) NOT NULL, 
	partner VARCHAR(200) NOT NULL, 
	feed VARCHAR(300) NOT NULL, 
	pulls INTEGER NOT NULL, 
	not_modified INTEGER NOT NULL, 
	last_pull DATETIME NOT NULL, 
	user_agent TEXT NOT NULL, 
	PRIMARY KEY (day, partner, feed)
);
INSERT INTO "pulls" VALUES('2026-03-01','','fr/atom.xml',4,1,'2026-03-01 12:05:00.000000','newsboat');
CREATE TABLE service_state (
	"key" VARCHAR(200) NOT NULL, 
	value TEXT NOT NULL, 
	updated DATETIME NOT NULL, 
	PRIMARY KEY ("key")
);
INSERT INTO "service_state" VALUES('reload_error','bad toml','2026-03-01 12:05:00.000000');
INSERT INTO "service_state" VALUES('publish:fr','7','2026-03-01 12:05:00.000000');
CREATE TABLE source_pages (
	source VARCHAR(200) NOT NULL, 
	url VARCHAR(2000) NOT NULL, 
	etag TEXT NOT NULL, 
	last_modified TEXT NOT NULL, 
	fingerprint VARCHAR(64) NOT NULL, 
	checked DATETIME, 
	PRIMARY KEY (source, url)
);
INSERT INTO "source_pages" VALUES('wire','https://wire.example.org/list','"e1"','Sun, 01 Mar 2026 00:00:00 GMT','fp','2026-03-01 12:05:00.000000');
CREATE TABLE source_state (
	name VARCHAR(200) NOT NULL, 
	last_poll DATETIME, 
	last_success DATETIME, 
	last_error TEXT NOT NULL, 
	failures INTEGER NOT NULL, 
	problems TEXT NOT NULL, 
	last_error_at DATETIME, 
	next_poll DATETIME, 
	PRIMARY KEY (name)
);
INSERT INTO "source_state" VALUES('newsroom','2026-03-01 12:05:00.000000','2026-03-01 12:05:00.000000','',0,'["articles/x.md: no title"]',NULL,NULL);
INSERT INTO "source_state" VALUES('wire','2026-03-01 12:05:00.000000',NULL,'timeout',1,'[]','2026-03-01 12:05:00.000000','2026-03-01 12:35:00.000000');
CREATE TABLE translations (
	article_id INTEGER NOT NULL, 
	language VARCHAR(35) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	title TEXT NOT NULL, 
	summary TEXT NOT NULL, 
	body_html TEXT NOT NULL, 
	engine VARCHAR(50) NOT NULL, 
	model_version VARCHAR(200) NOT NULL, 
	pivot VARCHAR(35) NOT NULL, 
	error TEXT NOT NULL, 
	source_hash VARCHAR(64) NOT NULL, 
	updated DATETIME, 
	changed DATETIME, 
	reviewed BOOLEAN NOT NULL, 
	attempts INTEGER NOT NULL, 
	next_retry DATETIME, 
	PRIMARY KEY (article_id, language)
);
INSERT INTO "translations" VALUES(4,'en','pending','','','','','','','','',NULL,NULL,0,0,NULL);
INSERT INTO "translations" VALUES(4,'ar','pending','','','','','','','','',NULL,NULL,0,0,NULL);
INSERT INTO "translations" VALUES(3,'fr','pending','','','','','','','','',NULL,NULL,0,0,NULL);
INSERT INTO "translations" VALUES(3,'ar','pending','','','','','','','','',NULL,NULL,0,0,NULL);
INSERT INTO "translations" VALUES(2,'fr','done','Jardin','','<p>Revu.</p>','human','','','','hash-garden','2026-03-01 12:00:00.000000','2026-03-01 12:05:00.000000',1,0,NULL);
INSERT INTO "translations" VALUES(2,'ar','no-model','','','','argos','','','no model','',NULL,'2026-03-01 12:05:00.000000',0,0,NULL);
INSERT INTO "translations" VALUES(1,'fr','done','Titre','R','<p>Corps.</p>','argos','argos:en-fr:1.0:x','','','hash-bridge','2026-03-01 12:00:00.000000','2026-03-01 12:05:00.000000',0,0,NULL);
INSERT INTO "translations" VALUES(1,'ar','failed','','','','argos','','','length ratio','',NULL,'2026-03-01 12:05:00.000000',0,1,'2026-03-01 12:15:00.000000');
CREATE INDEX ix_articles_updated ON articles (updated);
CREATE INDEX ix_articles_published ON articles (published, id);
CREATE INDEX ix_articles_canonical_url ON articles (canonical_url);
CREATE INDEX ix_translations_changed ON translations (changed);
CREATE INDEX ix_translations_updated ON translations (updated);
CREATE INDEX ix_feed_entries_page ON feed_entries (language, page);
COMMIT;
