# scripts/samples.sh shows these lines of wordcount's output.
/^wordcount:/
/^top [0-9]+ words:/,/^$/
/^summary:/,/^$/
/^why map-reduce/,/^$/
/^check /
