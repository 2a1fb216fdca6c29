# scripts/samples.sh shows these lines of the crawler's output.
/^crawler:/
/^summary:/,/^$/
/^check/
