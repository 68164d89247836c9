# The fuzz targets, shared by the fuzz configuration (CMakeLists.txt here, which builds them)
# and the test configuration (tests.cmake, which runs them): name, source, library, -D.
set(CP_FUZZ_TARGETS
    "chart_detect|fuzz_chart_csv.c|cp_pipeline|FUZZ_FORMAT=CP_FORMAT_UNKNOWN"
    "chart_spotify|fuzz_chart_csv.c|cp_pipeline|FUZZ_FORMAT=CP_FORMAT_CHARTS_SPOTIFY"
    "chart_legacy|fuzz_chart_csv.c|cp_pipeline|FUZZ_FORMAT=CP_FORMAT_LEGACY"
    "chart_kaggle|fuzz_chart_csv.c|cp_pipeline|FUZZ_FORMAT=CP_FORMAT_KAGGLE_CHARTS"
    "chart_kaggle2017|fuzz_chart_csv.c|cp_pipeline|FUZZ_FORMAT=CP_FORMAT_KAGGLE_2017"
    # the real route table names every handler, so these link the server's libraries
    "router|fuzz_router.c|cp_server|"
    "query|fuzz_query.c|cp_server|"
    "answers|fuzz_answers.c|cp_handlers|")
