"""One Protocol (base.py) and its records; airflow.py and prefect.py behind it, auth.py and http.py below."""
