"""The report's statistics: resampling, intervals, tests, trends and the alpha frontier."""
