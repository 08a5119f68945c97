WITH src AS (
  SELECT
    CAST(`user_id` AS STRING) AS user_id,
    (
      EXTRACT(YEAR FROM `register_date`) * 12 + EXTRACT(MONTH FROM `register_date`) - 1
    ) AS reg,
    (
      EXTRACT(YEAR FROM `last_active`) * 12 + EXTRACT(MONTH FROM `last_active`) - 1
    ) AS last_raw,
    (
      EXTRACT(YEAR FROM `prev_active`) * 12 + EXTRACT(MONTH FROM `prev_active`) - 1
    ) AS prev_raw,
    CAST(`drove` AS BOOL) AS drove,
    LOWER(COALESCE(CAST(`top_feature` AS STRING), '')) AS top_text,
    GREATEST(COALESCE(CAST(`usage_control` AS INT64), 0), 0) AS c_control,
    GREATEST(COALESCE(CAST(`usage_content` AS INT64), 0), 0) AS c_content,
    GREATEST(COALESCE(CAST(`usage_community` AS INT64), 0), 0) AS c_community,
    GREATEST(COALESCE(CAST(`usage_after_sales` AS INT64), 0), 0) AS c_after_sales,
    GREATEST(COALESCE(CAST(`usage_activity` AS INT64), 0), 0) AS c_activity
  FROM `users`
  WHERE
    (
      EXTRACT(YEAR FROM `register_date`) * 12 + EXTRACT(MONTH FROM `register_date`) - 1
    ) <= 24294
), clamped AS (
  SELECT
    *,
    LEAST(GREATEST(COALESCE(last_raw, reg), reg), 24294) AS last_m,
    CASE
      WHEN GREATEST(COALESCE(prev_raw, reg), reg) < 24294
      THEN GREATEST(COALESCE(prev_raw, reg), reg)
    END AS prev_known
  FROM src
), life AS (
  SELECT
    *,
    CASE
      WHEN reg >= 24294
      THEN 'new'
      WHEN active AND reg = 24293
      THEN 'last_month_new'
      WHEN active AND prev IS NULL
      THEN 'active_unsplit'
      WHEN active AND 24294 - prev - 1 <= 0
      THEN 'active'
      WHEN active AND 24294 - prev - 1 < 2
      THEN 'awakened'
      WHEN active
      THEN 'returned'
      WHEN 24294 - last_m < 2
      THEN 'dormant'
      ELSE 'churned'
    END AS segment,
    CASE
      WHEN reg >= 24294
      THEN ''
      WHEN reg = 24293
      THEN 'new'
      WHEN prev IS NULL
      THEN 'unknown'
      WHEN 24293 - prev <= 0
      THEN 'old_active'
      WHEN 24293 - prev < 2
      THEN 'dormant'
      ELSE 'churned'
    END AS prev_group
  FROM (
    SELECT
      *,
      CASE WHEN active THEN prev_known ELSE last_m END AS prev
    FROM (
      SELECT
        *,
        last_m = 24294 AS active
      FROM clamped
    ) AS a
  ) AS p
), totals AS (
  SELECT
    *,
    c_control + c_content + c_community + c_after_sales + c_activity AS total
  FROM life
), shares AS (
  SELECT
    *,
    CASE
      WHEN total > 0
      THEN CAST(c_control AS FLOAT64) / CAST(total AS FLOAT64)
      ELSE CAST(0.0 AS FLOAT64)
    END AS s_control,
    CASE
      WHEN total > 0
      THEN CAST(c_content AS FLOAT64) / CAST(total AS FLOAT64)
      ELSE CAST(0.0 AS FLOAT64)
    END AS s_content,
    CASE
      WHEN total > 0
      THEN CAST(c_community AS FLOAT64) / CAST(total AS FLOAT64)
      ELSE CAST(0.0 AS FLOAT64)
    END AS s_community,
    CASE
      WHEN total > 0
      THEN CAST(c_after_sales AS FLOAT64) / CAST(total AS FLOAT64)
      ELSE CAST(0.0 AS FLOAT64)
    END AS s_after_sales,
    CASE
      WHEN total > 0
      THEN CAST(c_activity AS FLOAT64) / CAST(total AS FLOAT64)
      ELSE CAST(0.0 AS FLOAT64)
    END AS s_activity
  FROM totals
), picked AS (
  SELECT
    *,
    s_control >= CAST(0.3 AS FLOAT64) AS chosen_control,
    s_content >= CAST(0.3 AS FLOAT64) AS chosen_content,
    s_community >= CAST(0.3 AS FLOAT64) AS chosen_community,
    s_after_sales >= CAST(0.3 AS FLOAT64) AS chosen_after_sales,
    s_activity >= CAST(0.3 AS FLOAT64) AS chosen_activity,
    CASE
      WHEN total > 0
      THEN CASE
        WHEN s_control = GREATEST(s_control, s_content, s_community, s_after_sales, s_activity)
        THEN 'control'
        WHEN s_content = GREATEST(s_control, s_content, s_community, s_after_sales, s_activity)
        THEN 'content'
        WHEN s_community = GREATEST(s_control, s_content, s_community, s_after_sales, s_activity)
        THEN 'community'
        WHEN s_after_sales = GREATEST(s_control, s_content, s_community, s_after_sales, s_activity)
        THEN 'after_sales'
        WHEN s_activity = GREATEST(s_control, s_content, s_community, s_after_sales, s_activity)
        THEN 'activity'
      END
      ELSE CASE
        WHEN INSTR(top_text, '控车') > 0
        OR INSTR(top_text, '远程') > 0
        OR INSTR(top_text, '空调') > 0
        OR INSTR(top_text, '车门') > 0
        OR INSTR(top_text, '寻车') > 0
        OR INSTR(top_text, '车窗') > 0
        OR INSTR(top_text, 'control') > 0
        OR INSTR(top_text, '控车偏好') > 0
        OR INSTR(top_text, 'vehicle control') > 0
        THEN 'control'
        WHEN INSTR(top_text, '内容') > 0
        OR INSTR(top_text, '知识') > 0
        OR INSTR(top_text, '资讯') > 0
        OR INSTR(top_text, '文章') > 0
        OR INSTR(top_text, '视频') > 0
        OR INSTR(top_text, 'content') > 0
        OR INSTR(top_text, '内容偏好') > 0
        OR INSTR(top_text, 'content') > 0
        THEN 'content'
        WHEN INSTR(top_text, '社区') > 0
        OR INSTR(top_text, '话题') > 0
        OR INSTR(top_text, '帖') > 0
        OR INSTR(top_text, '圈') > 0
        OR INSTR(top_text, 'community') > 0
        OR INSTR(top_text, '社区偏好') > 0
        OR INSTR(top_text, 'community') > 0
        THEN 'community'
        WHEN INSTR(top_text, '售后') > 0
        OR INSTR(top_text, '保养') > 0
        OR INSTR(top_text, '维修') > 0
        OR INSTR(top_text, '预约') > 0
        OR INSTR(top_text, 'after') > 0
        OR INSTR(top_text, '售后偏好') > 0
        OR INSTR(top_text, 'after-sales') > 0
        THEN 'after_sales'
        WHEN INSTR(top_text, '活动') > 0
        OR INSTR(top_text, '福利') > 0
        OR INSTR(top_text, '抽奖') > 0
        OR INSTR(top_text, '签到') > 0
        OR INSTR(top_text, 'campaign') > 0
        OR INSTR(top_text, 'activity') > 0
        OR INSTR(top_text, '活动偏好') > 0
        OR INSTR(top_text, 'campaigns') > 0
        THEN 'activity'
        ELSE ''
      END
    END AS primary_key
  FROM shares
), counted AS (
  SELECT
    COUNT(CASE WHEN segment = 'new' THEN 1 END) AS n_new,
    COUNT(CASE WHEN segment = 'last_month_new' THEN 1 END) AS n_last_month_new,
    COUNT(CASE WHEN segment = 'active' THEN 1 END) AS n_active,
    COUNT(CASE WHEN segment = 'awakened' THEN 1 END) AS n_awakened,
    COUNT(CASE WHEN segment = 'returned' THEN 1 END) AS n_returned,
    COUNT(CASE WHEN segment = 'dormant' THEN 1 END) AS n_dormant,
    COUNT(CASE WHEN segment = 'churned' THEN 1 END) AS n_churned,
    COUNT(CASE WHEN segment = 'active_unsplit' THEN 1 END) AS n_active_unsplit,
    COUNT(CASE WHEN user_group = 'churned_driving' THEN 1 END) AS n_churned_driving,
    COUNT(CASE WHEN user_group = 'churned_not_driving' THEN 1 END) AS n_churned_not_driving,
    COUNT(CASE WHEN active THEN 1 END) AS n_mau,
    COUNT(CASE WHEN TRUE THEN 1 END) AS n_cumulative,
    COUNT(CASE WHEN prev_group = 'unknown' THEN 1 END) AS n_unknown_prev,
    COUNT(CASE WHEN prev_group <> '' THEN 1 END) AS n_existing,
    COUNT(CASE WHEN prev_group = 'old_active' THEN 1 END) AS n_base_old_retention,
    COUNT(CASE WHEN prev_group = 'old_active' AND active THEN 1 END) AS n_kept_old_retention,
    COUNT(CASE WHEN prev_group = 'new' THEN 1 END) AS n_base_new_retention,
    COUNT(CASE WHEN prev_group = 'new' AND active THEN 1 END) AS n_kept_new_retention,
    COUNT(CASE WHEN prev_group = 'dormant' THEN 1 END) AS n_base_awaken_rate,
    COUNT(CASE WHEN prev_group = 'dormant' AND active THEN 1 END) AS n_kept_awaken_rate,
    COUNT(CASE WHEN prev_group = 'churned' THEN 1 END) AS n_base_return_rate,
    COUNT(CASE WHEN prev_group = 'churned' AND active THEN 1 END) AS n_kept_return_rate
  FROM (
    SELECT
      user_id,
      segment,
      CASE
        WHEN segment = 'churned' AND drove
        THEN 'churned_driving'
        WHEN segment = 'churned' AND NOT drove
        THEN 'churned_not_driving'
        ELSE segment
      END AS user_group,
      active,
      CASE
        WHEN segment IN ('new', 'active_unsplit')
        THEN NULL
        WHEN segment = 'last_month_new'
        THEN 0
        WHEN active
        THEN 24294 - prev - 1
        ELSE 24294 - last_m
      END AS idle_months,
      prev_group,
      CASE WHEN total > 0 THEN chosen_control ELSE primary_key = 'control' END AS pref_control,
      CASE WHEN total > 0 THEN chosen_content ELSE primary_key = 'content' END AS pref_content,
      CASE WHEN total > 0 THEN chosen_community ELSE primary_key = 'community' END AS pref_community,
      CASE WHEN total > 0 THEN chosen_after_sales ELSE primary_key = 'after_sales' END AS pref_after_sales,
      CASE WHEN total > 0 THEN chosen_activity ELSE primary_key = 'activity' END AS pref_activity,
      CASE
        WHEN total > 0
        THEN CONCAT(
          COALESCE(CASE WHEN chosen_control THEN '控车偏好' ELSE '' END, ''),
          COALESCE(
            CASE
              WHEN chosen_content
              THEN CASE WHEN chosen_control THEN '、内容偏好' ELSE '内容偏好' END
              ELSE ''
            END,
            ''
          ),
          COALESCE(
            CASE
              WHEN chosen_community
              THEN CASE WHEN chosen_control OR chosen_content THEN '、社区偏好' ELSE '社区偏好' END
              ELSE ''
            END,
            ''
          ),
          COALESCE(
            CASE
              WHEN chosen_after_sales
              THEN CASE
                WHEN chosen_control OR chosen_content OR chosen_community
                THEN '、售后偏好'
                ELSE '售后偏好'
              END
              ELSE ''
            END,
            ''
          ),
          COALESCE(
            CASE
              WHEN chosen_activity
              THEN CASE
                WHEN chosen_control OR chosen_content OR chosen_community OR chosen_after_sales
                THEN '、活动偏好'
                ELSE '活动偏好'
              END
              ELSE ''
            END,
            ''
          )
        )
        ELSE CASE
          WHEN primary_key = 'control'
          THEN '控车偏好'
          WHEN primary_key = 'content'
          THEN '内容偏好'
          WHEN primary_key = 'community'
          THEN '社区偏好'
          WHEN primary_key = 'after_sales'
          THEN '售后偏好'
          WHEN primary_key = 'activity'
          THEN '活动偏好'
          ELSE ''
        END
      END AS tags,
      primary_key,
      CASE
        WHEN primary_key = 'control'
        THEN '控车偏好'
        WHEN primary_key = 'content'
        THEN '内容偏好'
        WHEN primary_key = 'community'
        THEN '社区偏好'
        WHEN primary_key = 'after_sales'
        THEN '售后偏好'
        WHEN primary_key = 'activity'
        THEN '活动偏好'
        ELSE ''
      END AS primary_label
    FROM picked
  ) AS u
)
SELECT
  n_new AS `new`,
  n_last_month_new AS last_month_new,
  n_active AS active,
  n_awakened AS awakened,
  n_returned AS returned,
  n_dormant AS dormant,
  n_churned AS churned,
  n_active_unsplit AS active_unsplit,
  n_churned_driving AS churned_driving,
  n_churned_not_driving AS churned_not_driving,
  n_mau AS mau,
  n_cumulative AS cumulative,
  n_unknown_prev AS unknown_prev,
  n_base_old_retention AS base_old_retention,
  n_kept_old_retention AS kept_old_retention,
  n_base_new_retention AS base_new_retention,
  n_kept_new_retention AS kept_new_retention,
  n_base_awaken_rate AS base_awaken_rate,
  n_kept_awaken_rate AS kept_awaken_rate,
  n_base_return_rate AS base_return_rate,
  n_kept_return_rate AS kept_return_rate,
  CASE
    WHEN n_cumulative > 0
    THEN CAST(n_mau AS FLOAT64) / CAST(n_cumulative AS FLOAT64)
  END AS active_rate,
  CASE
    WHEN n_unknown_prev > CAST(0.005 AS FLOAT64) * n_existing OR n_base_old_retention = 0
    THEN NULL
    ELSE CAST(n_kept_old_retention AS FLOAT64) / CAST(n_base_old_retention AS FLOAT64)
  END AS old_retention,
  CASE
    WHEN n_unknown_prev > CAST(0.005 AS FLOAT64) * n_existing OR n_base_new_retention = 0
    THEN NULL
    ELSE CAST(n_kept_new_retention AS FLOAT64) / CAST(n_base_new_retention AS FLOAT64)
  END AS new_retention,
  CASE
    WHEN n_unknown_prev > CAST(0.005 AS FLOAT64) * n_existing OR n_base_awaken_rate = 0
    THEN NULL
    ELSE CAST(n_kept_awaken_rate AS FLOAT64) / CAST(n_base_awaken_rate AS FLOAT64)
  END AS awaken_rate,
  CASE
    WHEN n_unknown_prev > CAST(0.005 AS FLOAT64) * n_existing OR n_base_return_rate = 0
    THEN NULL
    ELSE CAST(n_kept_return_rate AS FLOAT64) / CAST(n_base_return_rate AS FLOAT64)
  END AS return_rate
FROM counted;
