# Shared settings of the project's scripts (sourced, not run).
export ODOO_PATH=${ODOO_PATH:-/opt/odoo/18.0}
export PGUSER=${PGUSER:-odoo_cloud}
export PGPASSWORD=${PGPASSWORD:-odoo_cloud}
export PGPORT=${PGPORT:-5432}
export PGHOST=${PGHOST:-localhost}
