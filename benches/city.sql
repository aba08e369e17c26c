-- A city the size of the largest deployment (演示大市, 439900): roster, `days` days of sign-ins
-- and daily reports, and `problems` problems at every stage of their lifecycle, as of now().
-- Run through benches/city.sh on a migrated database that does not hold 439900 yet.
-- Everything is set-based; pseudo-random draws hash (row, seed) so that draws made by different
-- statements about the same row agree (a report is filed only where the officer signed in).
\set ON_ERROR_STOP 1
\if :{?enterprises} \else \set enterprises 30000 \endif
\if :{?officers} \else \set officers 24000 \endif
\if :{?days} \else \set days 90 \endif
\if :{?problems} \else \set problems 100000 \endif

-- Session settings only: China dates for ::date and literal times, fewer WAL flushes.
SET TIME ZONE 'Asia/Shanghai';
SET synchronous_commit = off;
SET work_mem = '256MB';
SET client_min_messages = warning;

BEGIN;
-- One transaction: now() is one instant for the whole snapshot, and a failure leaves nothing.
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM regions WHERE code = '439900') THEN
    RAISE EXCEPTION 'region 439900 already exists: city.sql needs a fresh (migrated) database';
  END IF;
END $$;

CREATE TEMP TABLE p AS SELECT :enterprises::int AS n_ent, :officers::int AS n_off,
  :days::int AS n_days, :problems::int AS n_prob, current_date AS today;

-- Every month of the history gets its partitions first (the service makes only the coming
-- ones), so the rows land in their months rather than the default partitions.
SELECT count(*) AS partitions_created
  FROM p, unnest(ARRAY['sign_ins', 'daily_reports', 'daily_report_revisions', 'problem_events', 'audit_log']) AS t,
       generate_series(date_trunc('month', p.today - p.n_days - 45), date_trunc('month', p.today), interval '1 month') AS m
 WHERE create_month_partition(t, m::date) = 'created';

-- Uniform [0,1) from (key, seed): the same draw wherever it is asked for.
CREATE FUNCTION pg_temp.rnd(k bigint, seed int) RETURNS float8 LANGUAGE sql IMMUTABLE
  AS $$ SELECT (hashint8extended(k, seed) & 4294967295)::float8 / 4294967296 $$;
-- The n-th element (0-based, wrapping) of a list.
CREATE FUNCTION pg_temp.pick(a text[], n bigint) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT a[1 + n % cardinality(a)] $$;
CREATE FUNCTION pg_temp.hours(h float8) RETURNS interval LANGUAGE sql IMMUTABLE
  AS $$ SELECT h * interval '1 hour' $$;
-- A deadline lasts to the end of its China day (domain/deadline.rs).
CREATE FUNCTION pg_temp.eod(d date) RETURNS timestamptz LANGUAGE sql STABLE
  AS $$ SELECT (d + time '23:59:59')::timestamptz $$;
CREATE FUNCTION pg_temp.upto(t timestamptz) RETURNS timestamptz LANGUAGE sql STABLE
  AS $$ SELECT CASE WHEN t <= now() THEN t END $$;

-- Working days as the service counts them: Mon–Fri, then the stored calendar's holidays and
-- make-up workdays (a later year's schedule wins for a day two schedules list). wd_no numbers
-- the working days so that "n working days after d" is one lookup; unc_no counts days of years
-- without a published schedule (a deadline across one is provisional).
CREATE TEMP TABLE cal AS
WITH special AS (SELECT DISTINCT ON (day) day, kind FROM calendar_days ORDER BY day, year DESC)
SELECT d AS day,
       coalesce(s.kind = 'workday', extract(isodow FROM d) < 6) AS working,
       extract(year FROM d)::int IN (SELECT year FROM calendar_years) AS covered
  FROM p CROSS JOIN LATERAL (SELECT p.today - p.n_days - 14 + i AS d FROM generate_series(0, p.n_days + 414) i) dd
  LEFT JOIN special s ON s.day = dd.d;
CREATE TEMP TABLE cal2 AS
SELECT day, working,
       count(*) FILTER (WHERE working) OVER w AS wd_no,
       count(*) FILTER (WHERE NOT covered) OVER w AS unc_no
  FROM cal WINDOW w AS (ORDER BY day);
CREATE UNIQUE INDEX ON cal2 (day);
CREATE INDEX ON cal2 (wd_no) WHERE working;
CREATE FUNCTION pg_temp.add_wd(d date, n int) RETURNS date LANGUAGE sql STABLE AS $$
  SELECT w.day FROM cal2 c JOIN cal2 w ON w.working AND w.wd_no = c.wd_no + n WHERE c.day = d $$;
CREATE FUNCTION pg_temp.provisional(d date, n int) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT e.unc_no > c.unc_no FROM cal2 c, cal2 e WHERE c.day = d AND e.day = pg_temp.add_wd(d, n) $$;
-- t itself in office hours (08:30–17:30 of a working day), else the next opening plus up to 2.5 h.
CREATE FUNCTION pg_temp.office(t timestamptz) RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN c.working AND t::time BETWEEN time '08:30' AND time '17:30' THEN t
              ELSE ((SELECT min(n.day) FROM cal2 n WHERE n.working AND (n.day > c.day OR (n.day = c.day AND t::time < time '08:30')))
                    + time '08:30' + (extract(epoch FROM t)::bigint % 9000) * interval '1 second')::timestamptz END
    FROM cal2 c WHERE c.day = t::date $$;
-- The working days of the generated period, oldest first.
CREATE TEMP TABLE wd AS
SELECT day, (day - date '2000-01-01') AS dn FROM cal2, p
 WHERE working AND day >= p.today - p.n_days AND day < p.today ORDER BY day;

------------------------------------------------------------------------------------------
-- Regions: the city and its counties (path = the codes from the top, see region_code.rs).
-- weight: the share of the city's enterprises; urban districts and parks hold most.
CREATE TEMP TABLE cty (i, code, name, short, lat, lng, weight) AS VALUES
  (0, '439901', '城东区', '城东', 27.86, 113.18, 11), (1, '439902', '城西区', '城西', 27.84, 113.05, 10),
  (2, '439903', '城南区', '城南', 27.76, 113.13, 9),  (3, '439904', '城北区', '城北', 27.93, 113.12, 9),
  (4, '439905', '高新区', '高新', 27.82, 113.09, 14), (5, '439906', '临江区', '临江', 27.90, 113.24, 8),
  (6, '439907', '经开区', '经开', 27.79, 113.20, 12), (7, '439908', '青山县', '青山', 27.62, 113.02, 6),
  (8, '439909', '白石县', '白石', 27.55, 113.30, 5),  (9, '439910', '龙泉县', '龙泉', 28.02, 112.95, 5),
  (10, '439911', '云溪市', '云溪', 27.68, 113.45, 6), (11, '439912', '金水市', '金水', 28.05, 113.35, 5);
ALTER TABLE cty ADD hi float8;  -- cumulative share, for spreading enterprises in county order
UPDATE cty SET hi = c.hi FROM (SELECT i, sum(weight) OVER (ORDER BY i)::float8 / sum(weight) OVER () AS hi FROM cty) c
 WHERE c.i = cty.i;

INSERT INTO regions (code, name, parent_code, path) VALUES ('439900', '演示大市', NULL, '439900/');
INSERT INTO regions (code, name, parent_code, path)
SELECT code, name, '439900', '439900/' || code || '/' FROM cty ORDER BY i;

------------------------------------------------------------------------------------------
-- Units: the hub, 40 departments (mnemonic codes DS-<abbr>), 200 dispatching units
-- (DS-P001…: 44 city bureaus, then 13 per county).
CREATE TEMP TABLE dept (i, abbr, name) AS VALUES
  (0,'FGW','发展和改革委员会'),(1,'GXJ','工业和信息化局'),(2,'RSJ','人力资源和社会保障局'),(3,'SWJ','税务局'),
  (4,'CZJ','财政局'),(5,'SCJGJ','市场监督管理局'),(6,'ZRZYJ','自然资源和规划局'),(7,'ZJJ','住房和城乡建设局'),
  (8,'STHJJ','生态环境局'),(9,'JTYSJ','交通运输局'),(10,'SWUJ','商务局'),(11,'KJJ','科学技术局'),
  (12,'YJGLJ','应急管理局'),(13,'JRJ','地方金融管理局'),(14,'SLJ','水利局'),(15,'NYNCJ','农业农村局'),
  (16,'WJW','卫生健康委员会'),(17,'GAJ','公安局'),(18,'SFJ','司法局'),(19,'SPJ','行政审批服务局'),
  (20,'TJJ','统计局'),(21,'GZW','国有资产监督管理委员会'),(22,'CGJ','城市管理和综合执法局'),(23,'WLJ','文化旅游广电体育局'),
  (24,'JYJ','教育局'),(25,'YBJ','医疗保障局'),(26,'SJZYJ','数据资源局'),(27,'XFZD','消防救援支队'),
  (28,'HG','海关'),(29,'RMYH','人民银行分行'),(30,'JRJG','金融监管分局'),(31,'GDGS','供电公司'),
  (32,'ZLSGS','自来水公司'),(33,'RQGS','燃气公司'),(34,'ZGH','总工会'),(35,'GSL','工商业联合会'),
  (36,'TYJRJ','退役军人事务局'),(37,'MZJ','民政局'),(38,'LYJ','林业局'),(39,'XFJ','信访局');
INSERT INTO units (code, name, kind, region_code) VALUES ('DS-HUB', '演示大市驻企办', 'hub', '439900');
INSERT INTO units (code, name, kind, region_code)
SELECT 'DS-' || abbr, '演示大市' || name, 'department', '439900' FROM dept ORDER BY i;

CREATE TEMP TABLE disp AS
SELECT i, '演示大市' || n AS name, '439900' AS region_code, i AS k FROM unnest(ARRAY[
  '委办公室','政府办公室','委组织部','委宣传部','委统战部','委政法委','编办','档案馆','委党校','机关事务管理局',
  '供销合作社','残疾人联合会','妇女联合会','团市委','科学技术协会','文学艺术界联合会','红十字会','气象局','邮政管理局','烟草专卖局',
  '城发集团','交投集团','产业投资集团','高新区管委会','经开区管委会','住房公积金中心','公共资源交易中心','政务服务中心','不动产登记中心','投资促进中心',
  '口岸办','粮食和物资储备局','人防办','地震局','仲裁委员会','电信分公司','移动分公司','联通分公司','农商银行','建设银行分行',
  '工商银行分行','农业银行分行','中国银行分行','融资担保集团']) WITH ORDINALITY AS u(n, i)
UNION ALL
SELECT 44 + c.i * 13 + j, c.name || b, c.code, j FROM cty c, unnest(ARRAY[
  '发改局','工信局','人社局','财政局','商务局','科工局','市场监管局','自然资源局','住建局','交通运输局','农业农村局','应急管理局','政务服务中心'])
  WITH ORDINALITY AS v(b, j);
INSERT INTO units (code, name, kind, region_code)
SELECT 'DS-P' || lpad(i::text, 3, '0'), name, 'dispatching', region_code FROM disp ORDER BY i;
ALTER TABLE disp ADD id uuid;
UPDATE disp SET id = u.id FROM units u WHERE u.code = 'DS-P' || lpad(disp.i::text, 3, '0');
ALTER TABLE dept ADD id uuid;
UPDATE dept SET id = u.id FROM units u WHERE u.code = 'DS-' || dept.abbr;

-- Which department handles each category (first), and the usual second choice.
CREATE TEMP TABLE catmap (code, d1, d2) AS VALUES
  ('financing','JRJ','RMYH'),('labor','RSJ','YBJ'),('cost_reduction','FGW','SWJ'),('policy','GXJ','CZJ'),
  ('approval','SPJ','ZRZYJ'),('utilities','GDGS','ZLSGS'),('logistics','JTYSJ','GAJ'),('supply_chain','GXJ','SWUJ'),
  ('market','SWUJ','SCJGJ'),('epidemic','WJW','JYJ'),('safety','YJGLJ','XFZD'),('dispute','SFJ','RSJ'),('other','GXJ','FGW');
UPDATE categories c SET default_department_id = d.id FROM catmap m JOIN dept d ON d.abbr = m.d1
 WHERE c.code = m.code AND c.default_department_id IS NULL;

------------------------------------------------------------------------------------------
-- Enterprises, in county order (idx 0…N-1), so that officers below get neighbours.
-- Credit code: 91 + county + 'MA' + idx in base 31 + both check characters (credit_code.rs).
CREATE FUNCTION pg_temp.cc_check(s text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT substr(a, (31 - sum((strpos(a, substr(s, i, 1)) - 1) * w[i]) % 31)::int % 31 + 1, 1)
    FROM (SELECT '0123456789ABCDEFGHJKLMNPQRTUWXY'::text AS a,
                 '{1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28}'::int[] AS w) k, generate_series(1, 17) i
   GROUP BY a $$;
CREATE FUNCTION pg_temp.org_check(s text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE r WHEN 10 THEN 'X' WHEN 11 THEN '0' ELSE r::text END
    FROM (SELECT 11 - sum((strpos('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(s, i, 1)) - 1)
                          * ('{3,7,9,10,5,8,4,2}'::int[])[i]) % 11 AS r
            FROM generate_series(1, 8) i) x $$;
CREATE FUNCTION pg_temp.credit_code(division text, n bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT c17 || pg_temp.cc_check(c17)
    FROM (SELECT '91' || division || body || pg_temp.org_check(body) AS c17
            FROM (SELECT 'MA' || string_agg(substr('0123456789ABCDEFGHJKLMNPQRTUWXY',
                                  (n / (31::bigint ^ k)::bigint % 31)::int + 1, 1), '' ORDER BY k DESC) AS body
                    FROM generate_series(0, 5) k) b) c $$;

CREATE TEMP TABLE ent AS
WITH ind (j, word, industry) AS (SELECT j - 1, w[1], w[2] FROM unnest(ARRAY[
  '机械制造|装备制造','电子科技|电子信息','新材料科技|新材料','陶瓷|陶瓷制造','食品|农副食品加工','医药|医药制造',
  '服饰|纺织服装','建材|建材','化工|化工','物流|交通物流','汽车零部件|汽车零部件','轨道交通装备|轨道交通装备',
  '航空科技|航空航天','硬质合金|有色金属','玻璃|玻璃制造','包装材料|包装印刷','家具|家具制造','环保科技|节能环保',
  '新能源|新能源','智能装备|智能制造','生物科技|生物医药','电气|电气机械','精密铸造|金属制品','塑胶制品|橡胶塑料',
  '纸业|造纸','酒业|酒饮料','茶业|农副食品加工','烟花|烟花爆竹','软件|软件信息服务','建设工程|建筑业'])
  WITH ORDINALITY AS t(s, j), LATERAL string_to_array(s, '|') w),
     e AS (SELECT g AS idx, (SELECT min(i) FROM cty WHERE hi >= (g + 0.5) / p.n_ent) AS ci FROM p, generate_series(0, p.n_ent - 1) g)
SELECT e.idx, gen_random_uuid() AS id, c.code AS region_code,
       pg_temp.credit_code(c.code, e.idx) AS credit_code,
       -- brand (two distinct characters) × industry is unique for the first 106 200 enterprises
       CASE WHEN e.idx % 3 = 0 THEN '演示' ELSE c.short END
         || substr(ch, 1 + (h % 60)::int, 1) || substr(ch, 1 + ((h % 60) + 1 + (h / 60) % 59)::int % 60, 1)
         || ind.word || CASE WHEN e.idx % 7 = 0 THEN '股份有限公司' ELSE '有限公司' END AS name,
       ind.industry,
       c.name || pg_temp.pick('{工业大道,创业路,科技路,新兴路,建设北路,迎宾大道,滨江路,长青路,金山路,园区一路,园区二路,振兴路,湘江路,珠江路,黄河路,泰山路,车站路,东环路,西环路,南环路}', e.idx / 7)
         || (1 + (pg_temp.rnd(e.idx, 3) * 998)::int) || '号' AS address,
       c.lat + (pg_temp.rnd(e.idx, 4) - 0.5) * 0.12 AS lat,
       c.lng + (pg_temp.rnd(e.idx, 5) - 0.5) * 0.12 AS lng,
       500 AS geofence_m,
       -- head count: 20 to 2000, most of them small
       round(20 * 100 ^ (pg_temp.rnd(e.idx, 6) ^ 1.6))::int AS staff_total,
       -- 85% healthy, 12% struggling, 3% mostly stopped
       CASE WHEN pg_temp.rnd(e.idx, 7) < 0.85 THEN 0 WHEN pg_temp.rnd(e.idx, 7) < 0.97 THEN 1 ELSE 2 END AS health
  FROM e JOIN cty c ON c.i = e.ci
  CROSS JOIN LATERAL (SELECT (e.idx::bigint * 7919 + 104729) % 106200 AS h, '华鑫宏达恒信金石瑞丰天润盛世嘉禾永兴隆泰中正新源广联东方宇通博远凯汇智长城安顺福昌德星明辉锦程鼎力腾飞美佳万和立祥康晟宝'::text AS ch) hh
  JOIN ind ON ind.j = (hh.h / 3540) % 30;
INSERT INTO enterprises (id, credit_code, name, region_code, industry, address, lat, lng, geofence_m, created_at, updated_at)
SELECT id, credit_code, name, region_code, industry, address, lat, lng, geofence_m,
       (p.today - p.n_days - 7 + time '10:00')::timestamptz, (p.today - p.n_days - 7 + time '10:00')::timestamptz
  FROM ent, p ORDER BY idx;

------------------------------------------------------------------------------------------
-- Users. Officer k looks after enterprises idx with floor(idx*M/N) = k (1–2 each for N/M=1.25),
-- lives in the county of the first of them and belongs to a dispatching unit of that county
-- (one in four to a city bureau).
CREATE FUNCTION pg_temp.person(k bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT substr('王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈', 1 + (k % 50)::int, 1)
      || substr(g, 1 + ((k / 50) % 60)::int, 1)
      || CASE WHEN pg_temp.rnd(k, 8) < 0.7 THEN substr(g, 1 + (pg_temp.rnd(k, 9) * 60)::int % 60, 1) ELSE '' END
    FROM (SELECT '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力斌宇浩凯鹏飞晨阳欣怡婷雪琳晓峰志国海波亮俊佳慧颖婧远航思源' AS g) x $$;
CREATE TEMP TABLE off AS
SELECT s.o AS idx, gen_random_uuid() AS id, e.region_code,
       CASE WHEN s.o % 4 = 0 THEN (SELECT d.id FROM disp d WHERE d.i = 1 + (s.o / 4) % 44)
            ELSE (SELECT d.id FROM disp d WHERE d.region_code = e.region_code AND d.k = 1 + (s.o / 4) % 13) END AS unit_id
  FROM p CROSS JOIN generate_series(0, p.n_off - 1) s(o)
  JOIN ent e ON e.idx = least((s.o::bigint * p.n_ent + p.n_off - 1) / p.n_off, p.n_ent - 1);
INSERT INTO users (id, username, name, phone, roles, unit_id, region_code, created_at, updated_at)
SELECT id, 'officer' || lpad((idx + 1)::text, greatest(5, length(p.n_off::text)), '0'), pg_temp.person(idx), '135' || lpad((idx + 1)::text, 8, '0'),
       '{officer}', unit_id, region_code,
       (p.today - p.n_days - 7 + time '11:00')::timestamptz, (p.today - p.n_days - 7 + time '11:00')::timestamptz
  FROM off, p ORDER BY idx;
-- One clerk per department, five hub dispatchers.
ALTER TABLE dept ADD user_id uuid;
UPDATE dept SET user_id = gen_random_uuid();
INSERT INTO users (id, username, name, phone, roles, unit_id, region_code)
SELECT user_id, 'dept.' || lower(abbr), pg_temp.person(100000 + i), '136' || lpad((i + 1)::text, 8, '0'),
       '{department}', id, '439900' FROM dept ORDER BY i;
CREATE TEMP TABLE dispatcher AS
SELECT k, gen_random_uuid() AS id FROM generate_series(0, 4) k;
INSERT INTO users (id, username, name, phone, roles, unit_id, region_code)
SELECT d.id, 'dispatcher.' || (k + 1), pg_temp.person(200000 + k), '137' || lpad((k + 1)::text, 8, '0'),
       '{dispatcher}', u.id, '439900' FROM dispatcher d, units u WHERE u.code = 'DS-HUB' ORDER BY k;

-- Assignments: one current officer per enterprise since the first generated day.
CREATE TEMP TABLE asg AS
SELECT e.idx AS e_idx, e.id AS enterprise_id, o.id AS officer_id, o.idx AS o_idx, e.region_code, e.lat, e.lng,
       e.geofence_m, e.staff_total, e.health, min(e.idx) OVER (PARTITION BY o.idx) AS first_idx,
       -- how diligent the officer is: sign-in rate 0.86–0.98, 0.92 on average
       0.86 + 0.12 * pg_temp.rnd(o.idx, 10) AS p_sign
  FROM ent e CROSS JOIN p JOIN off o ON o.idx = (e.idx::bigint * p.n_off / p.n_ent);
INSERT INTO assignments (officer_id, enterprise_id, start_day, end_day, created_at, updated_at)
SELECT officer_id, enterprise_id, p.today - p.n_days, NULL,
       (p.today - p.n_days - 1 + time '15:00')::timestamptz, (p.today - p.n_days - 1 + time '15:00')::timestamptz
  FROM asg, p ORDER BY e_idx;

------------------------------------------------------------------------------------------
-- Sign-ins: working days, 08:00–09:00 (at an officer's second enterprise 20–30 minutes after
-- the first), mostly well inside the geofence; 1% are field sign-ins (外勤) outside it, which
-- must carry a remark. One phone per officer.
INSERT INTO sign_ins (officer_id, enterprise_id, region_code, day, signed_at, lat, lng, accuracy_m,
                      distance_m, within_geofence, remark, device_id, new_device)
SELECT a.officer_id, a.enterprise_id, a.region_code, w.day,
       (w.day + time '08:00')::timestamptz + interval '1 second' * (pg_temp.rnd(a.first_idx::bigint * 100000 + w.dn, 12) * 3600
         + CASE WHEN a.e_idx > a.first_idx THEN 1200 + 600 * pg_temp.rnd(kk.k, 17) ELSE 0 END),
       fix.lat, fix.lng, round((5 + 45 * pg_temp.rnd(kk.k, 13))::numeric, 1), d.m, d.m <= a.geofence_m,
       CASE WHEN d.m > a.geofence_m THEN pg_temp.pick('{随企业负责人外出对接银行,在园区管委会参加政企座谈会,陪同企业到政务服务中心办事,企业生产基地在厂区外}', kk.k) END,
       'wx-' || substr(md5(a.officer_id::text), 1, 16), FALSE
  FROM wd w CROSS JOIN asg a,
       LATERAL (SELECT a.e_idx::bigint * 100000 + w.dn AS k) kk,
       LATERAL (SELECT 2 * pi() * pg_temp.rnd(kk.k, 14) AS theta,
                       CASE WHEN pg_temp.rnd(kk.k, 15) < 0.01 THEN a.geofence_m * (1.2 + 4 * pg_temp.rnd(kk.k, 16))
                            ELSE a.geofence_m * 0.6 * pg_temp.rnd(kk.k, 16) ^ 1.5 END AS dist) r,
       LATERAL (SELECT a.lat + r.dist * cos(r.theta) / 111195 AS lat,
                       a.lng + r.dist * sin(r.theta) / (111195 * cos(radians(a.lat))) AS lng) fix,
       -- the distance as the service computes it (haversine, domain/geo.rs)
       LATERAL (SELECT 2 * 6371008.8 * asin(sqrt(sin(radians(fix.lat - a.lat) / 2) ^ 2
                  + cos(radians(a.lat)) * cos(radians(fix.lat)) * sin(radians(fix.lng - a.lng) / 2) ^ 2)) AS m) d
 WHERE pg_temp.rnd(kk.k, 11) < a.p_sign;

INSERT INTO officer_devices (officer_id, device_id, first_seen_at)
SELECT officer_id, min(device_id), min(signed_at) FROM sign_ins s
 WHERE region_code LIKE '4399%' GROUP BY officer_id;

-- Daily reports: filed 17:00–20:00 where the officer signed in, 88% of the days overall.
INSERT INTO daily_reports (officer_id, enterprise_id, region_code, day, revision, work_done, production_status,
                           capacity_pct, staff_on_duty, staff_total, staff_shortage, difficulties, submitted_at, updated_at)
SELECT a.officer_id, a.enterprise_id, a.region_code, w.day, 1,
       pg_temp.pick('{走访生产车间，了解订单排产和用工情况,与企业负责人座谈，梳理近期困难和诉求,协助企业对接银行，了解流动资金贷款政策,宣讲稳岗补贴和社保缓缴政策，指导企业申报,跟进上周反映问题的办理进度，向企业反馈,检查安全生产台账，提醒做好用电和消防安全,了解原材料价格和库存情况，帮助企业对接供应商,协助企业准备高新技术企业认定材料,陪同企业到政务服务中心办理审批事项,了解企业新建项目进度，协调用地和报建问题,收集企业对营商环境的意见建议,了解企业出口订单和物流运输情况}', (k * 7 + w.dn)),
       s.status, s.cap, least(a.staff_total, s.on_duty), a.staff_total, s.shortage,
       CASE WHEN s.status <> 'normal' OR pg_temp.rnd(k, 24) < 0.04
            THEN pg_temp.pick('{订单不足，部分产线停产,原材料涨价，资金周转紧张,招工难，熟练技工缺口较大,用电负荷受限，生产不连续,应收账款回款慢,物流运输成本上升,设备检修，暂时减产}', k) END,
       sub, sub
  FROM wd w CROSS JOIN asg a,
       LATERAL (SELECT a.e_idx::bigint * 100000 + w.dn AS k) kk,
       LATERAL (SELECT (w.day + time '17:00')::timestamptz + interval '1 second' * (pg_temp.rnd(a.first_idx::bigint * 100000 + w.dn, 21) * 10000
                         + CASE WHEN a.e_idx > a.first_idx THEN 180 + 420 * pg_temp.rnd(kk.k, 26) ELSE 0 END) AS sub,
                       CASE a.health WHEN 0 THEN (ARRAY[0.97, 0.997]) WHEN 1 THEN (ARRAY[0.40, 0.95]) ELSE (ARRAY[0.10, 0.50]) END AS cut,
                       pg_temp.rnd(kk.k, 22) AS u, pg_temp.rnd(kk.k, 23) AS v) r,
       LATERAL (SELECT CASE WHEN r.u < r.cut[1] THEN 'normal' WHEN r.u < r.cut[2] THEN 'partial' ELSE 'suspended' END AS status) st,
       LATERAL (SELECT st.status,
                       CASE st.status WHEN 'normal' THEN 75 + (25 * r.v)::int WHEN 'partial' THEN 30 + (44 * r.v)::int ELSE 0 END::smallint AS cap,
                       CASE st.status WHEN 'normal' THEN floor(a.staff_total * (0.85 + 0.15 * r.v))
                                      WHEN 'partial' THEN floor(a.staff_total * (0.4 + 0.4 * r.v))
                                      ELSE floor(a.staff_total * 0.1 * r.v) END::int AS on_duty,
                       CASE WHEN st.status = 'normal' AND r.v < 0.8 THEN 0
                            ELSE floor(a.staff_total * 0.08 * pg_temp.rnd(kk.k, 25)) END::int AS shortage) s
 WHERE pg_temp.rnd(k, 11) < a.p_sign * (0.88 / 0.92);

-- The first (and only) revision of each report, as DailyReport::record_revision stores it.
INSERT INTO daily_report_revisions (report_id, day, revision, author_id, at, body, changed_fields)
SELECT id, day, 1, officer_id, updated_at,
       jsonb_build_object('work_done', work_done, 'production_status', production_status, 'capacity_pct', capacity_pct,
                          'staff_on_duty', staff_on_duty, 'staff_total', staff_total, 'staff_shortage', staff_shortage,
                          'difficulties', difficulties),
       '{}'
  FROM daily_reports WHERE region_code LIKE '4399%';

------------------------------------------------------------------------------------------
-- Problems. Each gets a planned timeline (triage, assignment, maybe a return and reassignment,
-- acceptance, response, maybe a dissatisfied rating and a second round, rating, closing), and
-- its row is the snapshot of that timeline at now(): old ones closed, recent ones in the queue.
-- 5% are resolved on site, 2% merged into an earlier problem of the same kind and county.
CREATE TEMP TABLE tpl (category, title, description) AS VALUES
  ('financing','流动资金贷款到期续贷困难','企业流动资金贷款{n}万元下月到期，银行收紧授信，续贷审批进展缓慢，希望金融部门协调银行办理无还本续贷'),
  ('financing','技改项目融资需求','企业计划实施生产线技术改造，资金缺口约{n}万元，希望协调银行提供中长期贷款或政府性融资担保'),
  ('labor','熟练技工招工难','订单增加，急需熟练焊工、数控操作工约{n}名，多次招聘效果不理想，希望人社部门组织专场招聘'),
  ('labor','新员工岗前培训补贴申领','企业新招员工{n}人，希望了解岗前培训补贴的申报条件和流程，请人社部门上门指导'),
  ('cost_reduction','厂房租金负担较重','企业租用园区标准厂房，年租金约{n}万元，经营困难，希望按政策给予租金减免或缓缴'),
  ('cost_reduction','涉企收费清理','企业反映部分检测、评估费用偏高，全年约{n}万元，希望核查是否属于应清理的涉企收费'),
  ('policy','研发费用加计扣除政策辅导','企业研发投入约{n}万元，对研发费用加计扣除政策口径不清楚，希望税务部门上门辅导'),
  ('policy','奖补资金兑现进度','企业去年获批的技改奖补资金{n}万元至今未拨付到位，希望财政和工信部门加快兑现'),
  ('approval','新建厂房消防验收排队','新建厂房已竣工，消防验收排队时间较长，影响设备进场和投产，请求加快办理'),
  ('approval','项目环评审批进度','扩建项目环评报告已提交{n}天，审批尚未完成，影响项目开工，希望协调加快审批'),
  ('utilities','专线频繁跳闸影响生产','厂区10kV专线近期多次跳闸，每次停产约{n}小时，影响连续生产，请供电公司排查线路'),
  ('utilities','用电增容报装','企业新上生产线需增容{n}千伏安，报装手续办理较慢，希望供电公司开辟绿色通道'),
  ('logistics','厂区门口道路破损','厂区门口道路破损严重，大货车进出困难，雨天积水，请求交通部门维修'),
  ('logistics','货车限行影响发货','城区货车限行时段调整后，企业每天约{n}车次发货受影响，希望办理通行证'),
  ('supply_chain','原材料价格上涨','主要原材料近三个月涨价约{n}%，企业成本压力大，希望帮助对接本地供应商'),
  ('supply_chain','芯片等关键部件断供','关键电子元器件供应紧张，交货周期延长到{n}周，影响订单交付，希望协调供应渠道'),
  ('market','开拓市场需要展会支持','企业希望参加今年的行业展会，展位费约{n}万元，希望商务部门给予展会补贴'),
  ('market','出口订单受阻','受海外需求下降影响，出口订单减少约{n}%，希望了解出口信用保险和外贸扶持政策'),
  ('epidemic','员工返岗防疫要求咨询','企业有{n}名外地员工返岗，希望卫健部门明确防疫要求，指导企业做好健康监测'),
  ('safety','危化品仓库安全隐患整改','企业危化品仓库存在安全隐患，整改需投入约{n}万元，希望应急管理部门指导整改方案'),
  ('safety','消防设施改造指导','厂区消防设施老化，希望消防部门上门检查并指导改造，预计投入{n}万元'),
  ('dispute','客户拖欠货款','下游客户拖欠货款约{n}万元，多次催收无果，希望司法部门提供法律援助或调解'),
  ('dispute','商标被侵权','企业注册商标被外地企业仿冒使用，涉及产品约{n}批次，希望市场监管部门协助维权'),
  ('other','企业周边环境整治','厂区周边有{n}处垃圾堆放点，影响企业形象和员工通勤，希望相关部门清理'),
  ('other','员工子女入学问题','企业{n}名外地骨干员工子女入学困难，希望教育部门协调就近入学');
ALTER TABLE tpl ADD j int;
UPDATE tpl SET j = t.j FROM (SELECT category, title, row_number() OVER (PARTITION BY category ORDER BY title) - 1 AS j FROM tpl) t
 WHERE t.category = tpl.category AND t.title = tpl.title;

CREATE TEMP TABLE pt AS
WITH cats AS (  -- categories weighted by how often they come up
  SELECT array_agg(code ORDER BY code, g) AS a FROM (VALUES ('financing',14),('labor',16),('cost_reduction',8),('policy',14),
    ('approval',10),('utilities',8),('logistics',6),('supply_chain',6),('market',8),('epidemic',1),('safety',3),('dispute',4),('other',2)) v(code, w),
    generate_series(1, w) g),
     days AS (SELECT array_agg(day ORDER BY day) AS a FROM wd),
     g AS (SELECT i, (floor(p.n_ent * pg_temp.rnd(i, 31) ^ 2)::bigint * 7919 + 17) % p.n_ent AS e_idx,
                  pg_temp.pick(cats.a, (pg_temp.rnd(i, 32) * 100)::bigint) AS category,
                  CASE WHEN pg_temp.rnd(i, 33) < 0.92 THEN days.a[1 + floor(pg_temp.rnd(i, 34) * cardinality(days.a))::int]
                       ELSE p.today - 1 - floor(pg_temp.rnd(i, 34) * p.n_days)::int END AS day
             FROM p, cats, days, generate_series(1, p.n_prob) i)
SELECT g.i AS idx, gen_random_uuid() AS id, g.category, cg.name AS category_name, a.enterprise_id, a.officer_id AS reporter_id, a.region_code,
       t.title, replace(t.description, '{n}', (3 + floor(pg_temp.rnd(g.i, 36) * 60))::text) AS description,
       CASE WHEN pg_temp.rnd(g.i, 37) < 0.08 THEN 'urgent' ELSE 'normal' END AS urgency,
       -- half of them come from a daily report that day (its problems[]), at its submission
       r.id AS source_report_id,
       coalesce(r.submitted_at, (g.day + time '09:00')::timestamptz + pg_temp.rnd(g.i, 38) * interval '9 hours') AS created_at,
       dd1.id AS dept1, dd1.user_id AS clerk1, dd2.id AS dept2, dd2.user_id AS clerk2, dd1.name AS dept1_name, dd2.name AS dept2_name,
       (SELECT id FROM dispatcher WHERE k = g.i % 5) AS dispatcher,
       CASE WHEN pg_temp.rnd(g.i, 40) < 0.05 THEN 'onsite' WHEN pg_temp.rnd(g.i, 40) < 0.07 THEN 'merged' ELSE 'normal' END AS kind
  FROM g JOIN asg a ON a.e_idx = g.e_idx
  JOIN tpl t ON t.category = g.category AND t.j = (g.i % (SELECT count(*) FROM tpl WHERE category = g.category))
  JOIN catmap m ON m.code = g.category
  JOIN categories cg ON cg.code = g.category
  -- 85% go to the usual department first; the rest to the second choice
  JOIN dept dd1 ON dd1.abbr = CASE WHEN pg_temp.rnd(g.i, 39) < 0.85 THEN m.d1 ELSE m.d2 END
  JOIN dept dd2 ON dd2.abbr = CASE WHEN pg_temp.rnd(g.i, 39) < 0.85 THEN m.d2 ELSE m.d1 END
  LEFT JOIN daily_reports r ON pg_temp.rnd(g.i, 35) < 0.5 AND r.officer_id = a.officer_id
                           AND r.enterprise_id = a.enterprise_id AND r.day = g.day;
ALTER TABLE pt ADD n int, ADD t_tri timestamptz, ADD t_asg1 timestamptz, ADD t_ret timestamptz, ADD t_tri2 timestamptz,
  ADD t_asg2 timestamptz, ADD ra timestamptz, ADD cd1 timestamptz, ADD due1 timestamptz, ADD prov1 bool,
  ADD cda timestamptz, ADD duea timestamptz, ADD prova bool, ADD t_acc timestamptz, ADD t_resp timestamptz, ADD outcome1 text,
  ADD t_ev1 timestamptz, ADD cdb timestamptz, ADD dueb timestamptz, ADD provb bool, ADD t_acc2 timestamptz,
  ADD t_resp2 timestamptz, ADD outcome2 text, ADD t_ev timestamptz, ADD rating text, ADD t_close timestamptz,
  ADD t_os timestamptz, ADD t_merge timestamptz, ADD into_id uuid;

-- The hub and the departments act in office hours (pg_temp.office), so a problem filed on a
-- Friday evening waits in the queue until Monday. Deadlines by category and urgency
-- (categories table), counted from the assignment's China day.
UPDATE pt SET n = CASE WHEN pt.urgency = 'urgent' THEN c.urgent_due_working_days ELSE c.due_working_days END,
              t_tri = pg_temp.office(created_at + pg_temp.hours(0.3 + 30 * pg_temp.rnd(idx, 41) ^ 2))
  FROM categories c WHERE c.code = pt.category;
UPDATE pt SET t_asg1 = pg_temp.office(t_tri + pg_temp.hours(0.1 + 5 * pg_temp.rnd(idx, 42)));
-- 3%: the department hands it back before accepting; the hub re-triages and assigns the other one.
UPDATE pt SET t_ret = pg_temp.office(t_asg1 + pg_temp.hours(2 + 46 * pg_temp.rnd(idx, 44))) WHERE pg_temp.rnd(idx, 43) < 0.03;
UPDATE pt SET t_tri2 = pg_temp.office(t_ret + pg_temp.hours(0.5 + 20 * pg_temp.rnd(idx, 45))) WHERE t_ret IS NOT NULL;
UPDATE pt SET t_asg2 = pg_temp.office(t_tri2 + pg_temp.hours(0.1 + 3 * pg_temp.rnd(idx, 46))) WHERE t_tri2 IS NOT NULL;
UPDATE pt SET ra = coalesce(t_asg2, t_asg1),
              cd1 = pg_temp.eod(pg_temp.add_wd(t_asg1::date, least(3, n))), due1 = pg_temp.eod(pg_temp.add_wd(t_asg1::date, n)),
              prov1 = pg_temp.provisional(t_asg1::date, greatest(3, n));
UPDATE pt SET cda = pg_temp.eod(pg_temp.add_wd(ra::date, least(3, n))), duea = pg_temp.eod(pg_temp.add_wd(ra::date, n)),
              prova = pg_temp.provisional(ra::date, greatest(3, n));
-- 0.5% are never accepted (stuck at the top escalation level), 3% only after days of chasing,
-- 12% a little late; 12% are answered late. On-time steps aim before 17:00 of the due day, so
-- that office hours do not push them past it.
UPDATE pt SET t_acc = pg_temp.office(CASE WHEN pg_temp.rnd(idx, 47) < 0.035 THEN cda + pg_temp.hours(48 + 550 * pg_temp.rnd(idx, 49))
                                          WHEN pg_temp.rnd(idx, 48) < 0.12 THEN cda + pg_temp.hours(1 + 60 * pg_temp.rnd(idx, 49))
                                          ELSE ra + (0.05 + 0.9 * pg_temp.rnd(idx, 49)) * greatest(cda - interval '7 hours' - ra, interval '1 hour') END)
 WHERE pg_temp.rnd(idx, 47) >= 0.005;
UPDATE pt SET t_resp = pg_temp.office(CASE WHEN pg_temp.rnd(idx, 50) < 0.12 THEN greatest(duea, t_acc) + pg_temp.hours(2 + 240 * pg_temp.rnd(idx, 51))
                            ELSE t_acc + (0.05 + 0.9 * pg_temp.rnd(idx, 51) ^ 1.5) * greatest(duea - interval '7 hours' - t_acc, interval '4 hours') END),
              outcome1 = CASE WHEN pg_temp.rnd(idx, 52) < 0.68 THEN 'resolved' WHEN pg_temp.rnd(idx, 52) < 0.9 THEN 'explained' ELSE 'long_term' END
 WHERE t_acc IS NOT NULL;
-- 5%: rated dissatisfied, reopened with the same department and a new round of deadlines.
UPDATE pt SET t_ev1 = t_resp + pg_temp.hours(2 + 70 * pg_temp.rnd(idx, 54)) WHERE t_resp IS NOT NULL AND pg_temp.rnd(idx, 53) < 0.05;
UPDATE pt SET cdb = pg_temp.eod(pg_temp.add_wd(t_ev1::date, least(3, n))), dueb = pg_temp.eod(pg_temp.add_wd(t_ev1::date, n)),
              provb = pg_temp.provisional(t_ev1::date, greatest(3, n)) WHERE t_ev1 IS NOT NULL;
UPDATE pt SET t_acc2 = pg_temp.office(t_ev1 + (0.05 + 0.8 * pg_temp.rnd(idx, 55)) * greatest(cdb - interval '7 hours' - t_ev1, interval '1 hour')) WHERE t_ev1 IS NOT NULL;
UPDATE pt SET t_resp2 = pg_temp.office(t_acc2 + (0.1 + 0.8 * pg_temp.rnd(idx, 56)) * greatest(dueb - interval '7 hours' - t_acc2, interval '4 hours')),
              outcome2 = CASE WHEN pg_temp.rnd(idx, 57) < 0.6 THEN 'resolved' ELSE 'explained' END WHERE t_acc2 IS NOT NULL;
-- 8% are never rated and closed once the 5-working-day window is over; the rest rated, then closed.
UPDATE pt SET t_ev = CASE WHEN pg_temp.rnd(idx, 58) >= 0.08 THEN coalesce(t_resp2, t_resp) + pg_temp.hours(1 + 90 * pg_temp.rnd(idx, 59) ^ 2) END,
              rating = CASE WHEN pg_temp.rnd(idx, 60) < 0.74 THEN 'satisfied' ELSE 'basically_satisfied' END
 WHERE t_resp IS NOT NULL;
UPDATE pt SET t_close = pg_temp.office(CASE WHEN t_ev IS NOT NULL THEN t_ev + pg_temp.hours(0.5 + 40 * pg_temp.rnd(idx, 61))
                             ELSE pg_temp.eod(pg_temp.add_wd(coalesce(t_resp2, t_resp)::date, 5)) + pg_temp.hours(1 + 48 * pg_temp.rnd(idx, 61)) END)
 WHERE t_resp IS NOT NULL;

-- Merges: into the latest earlier problem of the same category and county that takes part in
-- the normal flow and is still open at the time of the merge; none found → normal flow.
UPDATE pt SET t_merge = pg_temp.office(created_at + pg_temp.hours(0.5 + 20 * pg_temp.rnd(idx, 62))) WHERE kind = 'merged';
-- (A fresh table: an index built on pt itself, after its updates, is unusable in this transaction.)
CREATE TEMP TABLE pn AS SELECT id, category, region_code, created_at, t_close FROM pt WHERE kind = 'normal';
CREATE INDEX ON pn (category, region_code, created_at);
ANALYZE pn;
UPDATE pt SET into_id = (SELECT t.id FROM pn t WHERE t.category = pt.category AND t.region_code = pt.region_code
                            AND t.created_at < pt.created_at AND (t.t_close IS NULL OR t.t_close > pt.t_merge)
                          ORDER BY t.created_at DESC LIMIT 1)
 WHERE kind = 'merged';
UPDATE pt SET kind = 'normal', t_merge = NULL WHERE kind = 'merged' AND into_id IS NULL;
UPDATE pt SET t_os = created_at + pg_temp.hours(0.5 + 6 * pg_temp.rnd(idx, 63)) WHERE kind = 'onsite';
-- Problems off the normal flow have none of its steps.
UPDATE pt SET t_tri = NULL, t_asg1 = NULL, t_ret = NULL, t_tri2 = NULL, t_asg2 = NULL, ra = NULL, t_acc = NULL,
              t_resp = NULL, t_ev1 = NULL, t_acc2 = NULL, t_resp2 = NULL, t_ev = NULL, t_close = NULL
 WHERE kind <> 'normal';

-- The snapshot: which steps have happened by now(), and the current deadline round.
CREATE TEMP TABLE ps AS
SELECT pt.*, s.*, esc.*
  FROM pt,
  LATERAL (SELECT
    CASE WHEN pt.t_os <= now() THEN 'closed' WHEN pt.t_merge <= now() THEN 'merged'
         WHEN pt.t_close <= now() THEN 'closed' WHEN pt.t_ev <= now() THEN 'evaluated'
         WHEN pt.t_resp2 <= now() THEN 'responded' WHEN pt.t_acc2 <= now() THEN 'in_progress'
         WHEN pt.t_ev1 <= now() THEN 'reopened' WHEN pt.t_resp <= now() THEN 'responded'
         WHEN pt.t_acc <= now() THEN 'in_progress' WHEN pt.t_asg2 <= now() THEN 'assigned'
         WHEN pt.t_tri2 <= now() THEN 'triaged' WHEN pt.t_ret <= now() THEN 'returned'
         WHEN pt.t_asg1 <= now() THEN 'assigned' WHEN pt.t_tri <= now() THEN 'triaged' ELSE 'submitted' END AS status,
    -- the round now running: (start, contact due, due, provisional, contacted, responded, number)
    CASE WHEN pt.t_ev1 <= now() THEN 3 WHEN pt.t_asg2 <= now() OR (pt.t_asg1 <= now() AND pt.t_ret IS NULL) THEN 2
         WHEN pt.t_asg1 <= now() THEN 1 END AS cur,
    coalesce((pt.t_asg1 <= now())::int, 0) + coalesce((pt.t_asg2 <= now())::int, 0) + coalesce((pt.t_ev1 <= now())::int, 0) AS deadline_round) s0,
  LATERAL (SELECT s0.status, s0.deadline_round, s0.cur,
    CASE s0.cur WHEN 3 THEN pt.cdb WHEN 2 THEN pt.cda WHEN 1 THEN pt.cd1 END AS contact_due_at,
    CASE s0.cur WHEN 3 THEN pt.dueb WHEN 2 THEN pt.duea WHEN 1 THEN pt.due1 END AS due_at,
    CASE s0.cur WHEN 3 THEN pt.provb WHEN 2 THEN pt.prova WHEN 1 THEN pt.prov1 END AS provisional,
    CASE s0.cur WHEN 3 THEN pg_temp.upto(pt.t_acc2) WHEN 2 THEN pg_temp.upto(pt.t_acc) END AS contacted_at,
    CASE s0.cur WHEN 3 THEN pg_temp.upto(pt.t_resp2) WHEN 2 THEN pg_temp.upto(pt.t_resp)
                ELSE pg_temp.upto(pt.t_os) END AS responded_at,
    CASE WHEN s0.cur = 1 THEN pg_temp.upto(pt.t_ret) END AS returned_at) s,
  -- Escalations of the current round, as the job (every minute) would have made them: one level
  -- per missed window, in the order contact, response, still overdue 5 working days later.
  LATERAL (SELECT array_remove(ARRAY[
      CASE WHEN w.wait_end > s.contact_due_at + interval '1 minute'
                AND (s.contacted_at IS NULL OR s.contacted_at > s.contact_due_at) THEN 'contact_overdue' END,
      CASE WHEN w.wait_end > s.due_at + interval '1 minute' THEN 'response_overdue' END,
      CASE WHEN w.wait_end > w.still_at + interval '1 minute' THEN 'still_overdue' END], NULL) AS esc_reasons,
    array_remove(ARRAY[
      CASE WHEN w.wait_end > s.contact_due_at + interval '1 minute'
                AND (s.contacted_at IS NULL OR s.contacted_at > s.contact_due_at) THEN s.contact_due_at + interval '1 minute' END,
      CASE WHEN w.wait_end > s.due_at + interval '1 minute' THEN s.due_at + interval '1 minute' END,
      CASE WHEN w.wait_end > w.still_at + interval '1 minute' THEN w.still_at + interval '1 minute' END], NULL) AS esc_at
    FROM (SELECT coalesce(s.responded_at, s.returned_at, now()) AS wait_end,
                 pg_temp.eod(pg_temp.add_wd(s.due_at::date, 5)) AS still_at) w) esc;

INSERT INTO problems (id, enterprise_id, region_code, reporter_id, reporter_role, source_report_id, description_hash,
    title, description, category, urgency, departments_requested, status, suggested_category, confidence,
    created_at, updated_at, triaged_at, department_id, assigned_at, instructions, due_working_days, contact_due_at,
    due_at, calendar_version, calendar_provisional, contacted_at, responded_at, outcome, resolution, rating,
    rating_comment, evaluated_at, closed_at, merged_into_id, reopen_count, deadline_round, escalation_level)
SELECT id, enterprise_id, region_code, reporter_id, 'officer', source_report_id,
       encode(sha256(convert_to(description || id::text, 'UTF8')), 'hex'),
       title, description, category, urgency, '{}', status,
       CASE WHEN category <> 'other' THEN category END,
       CASE WHEN category <> 'other' THEN round((0.55 + 0.4 * pg_temp.rnd(idx, 64))::numeric, 3) END,
       created_at,
       greatest(created_at, pg_temp.upto(t_os), pg_temp.upto(t_merge), pg_temp.upto(t_tri), pg_temp.upto(t_asg1), pg_temp.upto(t_ret),
                pg_temp.upto(t_tri2), pg_temp.upto(t_asg2), pg_temp.upto(t_acc), pg_temp.upto(t_resp),
                pg_temp.upto(t_ev1), pg_temp.upto(t_acc2), pg_temp.upto(t_resp2), pg_temp.upto(t_ev), pg_temp.upto(t_close)),
       coalesce(pg_temp.upto(t_tri2), pg_temp.upto(t_tri)),
       CASE WHEN t_asg2 <= now() THEN dept2 WHEN t_asg1 <= now() THEN dept1 END,
       CASE cur WHEN 3 THEN t_ev1 WHEN 2 THEN ra WHEN 1 THEN t_asg1 END,
       CASE WHEN cur IS NOT NULL THEN '请按时限办理并反馈' END,
       CASE WHEN cur IS NOT NULL THEN n END, contact_due_at, due_at,
       CASE WHEN cur IS NOT NULL THEN (SELECT coalesce(max(version), 0) FROM calendar_years) END,
       coalesce(provisional, FALSE), contacted_at, responded_at,
       CASE WHEN t_os <= now() THEN 'resolved_on_site' WHEN t_resp2 <= now() THEN outcome2 WHEN t_resp <= now() THEN outcome1 END,
       CASE WHEN t_os <= now() THEN '驻企干部现场答复，企业无异议'
            WHEN t_resp2 <= now() OR t_resp <= now() THEN
              CASE coalesce(CASE WHEN t_resp2 <= now() THEN outcome2 END, outcome1)
                WHEN 'resolved' THEN '已与企业对接，相关事项办结'
                WHEN 'explained' THEN '已向企业解释相关政策规定，企业表示理解'
                ELSE '已列入年度工作计划，分阶段推进解决' END END,
       CASE WHEN t_ev <= now() THEN rating WHEN t_ev1 <= now() THEN 'dissatisfied' END,
       CASE WHEN t_ev <= now() THEN '感谢部门支持' WHEN t_ev1 <= now() THEN '问题未实际解决' END,
       coalesce(pg_temp.upto(t_ev), pg_temp.upto(t_ev1)),
       coalesce(pg_temp.upto(t_os), pg_temp.upto(t_close)),
       CASE WHEN t_merge <= now() THEN into_id END,
       coalesce((t_ev1 <= now())::int, 0), deadline_round, cardinality(esc_reasons)
  FROM ps ORDER BY created_at;

INSERT INTO problem_escalations (problem_id, round, level, reason, escalated_at)
SELECT id, deadline_round, l, esc_reasons[l], esc_at[l]
  FROM ps, generate_series(1, cardinality(esc_reasons)) l;

-- The timeline, event by event, in time order (the API orders a timeline by id).
INSERT INTO problem_events (problem_id, event_type, actor_id, actor_role, at, note, details)
SELECT problem_id, event_type, actor_id, actor_role, at, note, details FROM (
  SELECT ps.id AS problem_id, e.* FROM ps CROSS JOIN LATERAL (VALUES
    (1, 'submitted', ps.reporter_id, 'officer', ps.created_at, NULL::text, NULL::jsonb),
    (2, 'resolved_on_site', ps.reporter_id, 'officer', ps.t_os, '驻企干部现场答复，企业无异议', NULL),
    (3, 'merged', ps.dispatcher, 'dispatcher', ps.t_merge, '并入同类问题', jsonb_build_object('into_id', ps.into_id)),
    (4, 'triaged', ps.dispatcher, 'dispatcher', ps.t_tri, '类别：' || ps.category_name,
        jsonb_build_object('category', ps.category, 'urgency', ps.urgency, 'suggested_category', nullif(ps.category, 'other'))),
    (5, 'assigned', ps.dispatcher, 'dispatcher', ps.t_asg1, '交办演示大市' || ps.dept1_name || '：请按时限办理并反馈',
        jsonb_build_object('department_id', ps.dept1, 'due_working_days', ps.n, 'contact_due_at', ps.cd1, 'due_at', ps.due1)),
    (6, 'returned', ps.clerk1, 'department', ps.t_ret, '不属于本部门职责，请重新交办', jsonb_build_object('department_id', ps.dept1)),
    (7, 'triaged', ps.dispatcher, 'dispatcher', ps.t_tri2, '类别：' || ps.category_name,
        jsonb_build_object('category', ps.category, 'urgency', ps.urgency, 'suggested_category', nullif(ps.category, 'other'))),
    (8, 'assigned', ps.dispatcher, 'dispatcher', ps.t_asg2, '交办演示大市' || ps.dept2_name || '：请按时限办理并反馈',
        jsonb_build_object('department_id', ps.dept2, 'due_working_days', ps.n, 'contact_due_at', ps.cda, 'due_at', ps.duea)),
    (9, 'accepted', CASE WHEN ps.t_asg2 IS NULL THEN ps.clerk1 ELSE ps.clerk2 END, 'department', ps.t_acc, NULL, NULL),
    (10, 'responded', CASE WHEN ps.t_asg2 IS NULL THEN ps.clerk1 ELSE ps.clerk2 END, 'department', ps.t_resp, '已与企业对接并反馈办理情况',
        jsonb_build_object('outcome', ps.outcome1, 'on_time', ps.t_resp <= ps.duea)),
    (11, 'evaluated', ps.reporter_id, 'officer', ps.t_ev1, '问题未实际解决', jsonb_build_object('rating', 'dissatisfied')),
    (12, 'reopened', ps.reporter_id, 'officer', ps.t_ev1, '企业不满意，退回原承办部门重新办理',
        jsonb_build_object('due_working_days', ps.n, 'contact_due_at', ps.cdb, 'due_at', ps.dueb)),
    (13, 'accepted', CASE WHEN ps.t_asg2 IS NULL THEN ps.clerk1 ELSE ps.clerk2 END, 'department', ps.t_acc2, NULL, NULL),
    (14, 'responded', CASE WHEN ps.t_asg2 IS NULL THEN ps.clerk1 ELSE ps.clerk2 END, 'department', ps.t_resp2, '已重新办理并反馈',
        jsonb_build_object('outcome', ps.outcome2, 'on_time', ps.t_resp2 <= ps.dueb)),
    (15, 'evaluated', ps.reporter_id, 'officer', ps.t_ev, '感谢部门支持', jsonb_build_object('rating', ps.rating)),
    (16, 'closed', ps.dispatcher, 'dispatcher', ps.t_close, NULL, jsonb_build_object('rated', ps.t_ev IS NOT NULL))
  ) e(seq, event_type, actor_id, actor_role, at, note, details)
  WHERE e.at <= now()
  UNION ALL  -- the surviving problem's side of a merge
  SELECT m.into_id, 100, 'merged_in', m.dispatcher, 'dispatcher', m.t_merge, '并入同类问题“' || m.title || '”',
         jsonb_build_object('from_id', m.id, 'enterprise_id', m.enterprise_id)
    FROM ps m WHERE m.t_merge <= now()
  UNION ALL
  SELECT ps.id, 200 + l, 'escalated', NULL, 'system', ps.esc_at[l],
         (ARRAY['逾期督办（一级）：提醒承办部门', '逾期督办（二级）：通报部门负责人及派出单位', '逾期督办（三级）：报驻企办领导'])[l],
         jsonb_build_object('level', l, 'reason', ps.esc_reasons[l], 'round', ps.deadline_round)
    FROM ps, generate_series(1, cardinality(ps.esc_reasons)) l
) ev ORDER BY at, seq;

COMMIT;
ANALYZE;
