// A BI tool's view of chartpulse over JDBC: connect as chartpulse_bi with the stock
// PostgreSQL driver, list the reporting views through DatabaseMetaData as Tableau or
// Metabase do, read every one of them, and check that writes and other schemas are refused.
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

public final class BiSmoke {
    private static int failures = 0;

    private static void check(boolean ok, String what) {
        System.out.println((ok ? "ok: " : "FAILED: ") + what);
        if (!ok) failures++;
    }

    private static void refused(Statement st, String sql, String what) {
        try {
            st.execute(sql);
            check(false, what + " (it was allowed)");
        } catch (SQLException e) {
            // 42501 no privilege, 25006 read-only transaction, 55000 view not updatable
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            check(state.equals("42501") || state.equals("25006") || state.equals("55000"),
                    what + " [" + state + "]");
        }
    }

    public static void main(String[] args) throws Exception {
        String url = args[0]; // jdbc:postgresql://127.0.0.1:54320/db
        try (Connection c = DriverManager.getConnection(url, "chartpulse_bi",
                System.getenv().getOrDefault("CHARTPULSE_BI_PASSWORD", ""))) {
            DatabaseMetaData meta = c.getMetaData();
            List<String> views = new ArrayList<>();
            try (ResultSet rs = meta.getTables(null, "reporting", "%", new String[] {"VIEW"})) {
                while (rs.next()) views.add(rs.getString("TABLE_NAME"));
            }
            for (String required : new String[] {"chart_entries", "track_stats", "artist_stats",
                    "daily_totals", "movers", "series_coverage", "series_gaps"}) {
                check(views.contains(required), "reporting." + required + " is listed");
            }
            try (Statement st = c.createStatement()) {
                for (String v : views) {
                    try (ResultSet rs = st.executeQuery("select * from reporting." + v + " limit 5")) {
                        ResultSetMetaData md = rs.getMetaData();
                        int rows = 0;
                        while (rs.next()) rows++;
                        check(md.getColumnCount() > 0, "read reporting." + v + ": " + md.getColumnCount()
                                + " columns, " + rows + " rows");
                    }
                }
                try (ResultSet rs = st.executeQuery("select count(*) from reporting.chart_entries")) {
                    rs.next();
                    check(rs.getLong(1) > 0, "reporting.chart_entries has rows (" + rs.getLong(1) + ")");
                }
                try (ResultSet rs = st.executeQuery(
                        "select * from reporting.artist_leaderboard('global', 'daily', '2000-01-01', '2100-01-01')")) {
                    check(rs.next(), "the leaderboard function answers");
                }
                try (ResultSet rs = st.executeQuery("show statement_timeout")) {
                    rs.next();
                    check(!rs.getString(1).equals("0"), "statement_timeout is set (" + rs.getString(1) + ")");
                }
                refused(st, "select * from core.chart_entry limit 1", "core tables are refused");
                refused(st, "select * from catalog.raw_object limit 1", "the catalog is refused");
                refused(st, "select * from etl.reject limit 1", "ETL rejects are refused");
                refused(st, "insert into core.region values ('zz', 'Zedland')", "writes are refused");
                refused(st, "delete from reporting.chart_entries", "writes through views are refused");
                refused(st, "create table public.bi_scratch (x int)", "creating tables is refused");
            }
        }
        System.out.println(failures == 0 ? "jdbc: all checks passed" : "jdbc: " + failures + " failed");
        System.exit(failures == 0 ? 0 : 1);
    }
}
